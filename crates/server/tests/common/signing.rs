//! Digital signatures in tests: a SoftHSM2 token and test PKI for a test run as a child
//! process (SoftHSM2 reads `SOFTHSM2_CONF` when it starts and the server reads the PIN
//! from its environment, and a process cannot safely change its own environment), and
//! pyHanko (from the venv scripts/deps.sh makes) to sign and validate as others would.

use std::path::{Path, PathBuf};
use std::process::Command;

use motcua_sign::testing::{Party, Pki};

/// A program of the test venv (`MOTCUA_TEST_VENV`, default `/var/tmp/motcua-venv`).
pub fn venv_bin(name: &str) -> PathBuf {
    let venv =
        std::env::var_os("MOTCUA_TEST_VENV").map_or_else(|| PathBuf::from("/var/tmp/motcua-venv"), PathBuf::from);
    venv.join("bin").join(name)
}

/// Runs the test named `name` again as a child with a new test PKI's token environment
/// (the PIN in `pin_env`, the PKI's directory in `child_var`): `Some(dir)` in the child,
/// `None` in the parent once the child passed.
pub fn in_child(name: &str, child_var: &str, pin_env: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(child_var) {
        return Some(PathBuf::from(dir));
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let pki = Pki::create(tmp.path()).expect("test PKI and token (openssl, softhsm2-util)");
    let status = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .envs(pki.environment(pin_env))
        .env(child_var, tmp.path())
        .status()
        .expect("the test runs as a child");
    assert!(status.success(), "the child running {name} failed");
    None
}

/// Runs `pyhanko` with `args` then `files`: whether it succeeded, and what it said.
pub fn pyhanko(args: &[&str], files: &[&Path]) -> (bool, String) {
    let out = Command::new(venv_bin("pyhanko"))
        .args(args)
        .args(files)
        .output()
        .expect("pyhanko runs (scripts/deps.sh installs it)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `input` signed by pyHanko (PAdES, a new field on page 1) with `party`'s key and
/// certificate, working in `dir`.
pub fn pyhanko_sign(dir: &Path, input: &[u8], party: &Party) -> Vec<u8> {
    pyhanko_sign_with(dir, input, party, &[])
}

/// [`pyhanko_sign`] with more options of `addsig` (e.g. `--timestamp-url URL`).
pub fn pyhanko_sign_with(dir: &Path, input: &[u8], party: &Party, options: &[&str]) -> Vec<u8> {
    let (inp, outp) = (dir.join("to-sign.pdf"), dir.join("signed-by-pyhanko.pdf"));
    std::fs::write(&inp, input).expect("written");
    let key = party.key.display().to_string();
    let cert = party.cert.display().to_string();
    let args = [&["sign", "addsig", "--use-pades"][..], options].concat();
    let (ok, text) = pyhanko(
        &[
            &args[..],
            &[
                "--field",
                "1/300,20,400,60/Sig1",
                "pemder",
                "--no-pass",
                "--key",
                &key,
                "--cert",
                &cert,
            ],
        ]
        .concat(),
        &[&inp, &outp],
    );
    assert!(ok, "pyhanko sign: {text}");
    std::fs::read(&outp).expect("read")
}

/// pyHanko's validation of every signature of `pdf` (written in `dir`) against the test
/// CA `ca`, without revocation checks: whether it accepted them, and what it said.
pub fn pyhanko_validate(dir: &Path, pdf: &[u8], ca: &Path) -> (bool, String) {
    let path = dir.join("to-validate.pdf");
    std::fs::write(&path, pdf).expect("written");
    let ca = ca.display().to_string();
    pyhanko(
        &[
            "sign",
            "validate",
            "--pretty-print",
            "--no-revocation-check",
            "--trust-replace",
            "--trust",
            &ca,
        ],
        &[&path],
    )
}

/// With `MOTCUA_SIGNATURE_SCREENSHOTS=<dir>`, saves the first page of `pdf` as
/// `<dir>/<name>.png` (110 dpi, so that the stamps can be read): how the pictures of signed
/// documents in docs/screenshots/ are made.
pub fn screenshot_pdf(pdf: &[u8], name: &str) {
    let Some(dir) = std::env::var_os("MOTCUA_SIGNATURE_SCREENSHOTS") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("f.pdf");
    std::fs::write(&path, pdf).expect("write");
    let status = Command::new("pdftoppm")
        .args(["-r", "110", "-png", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&path)
        .arg(Path::new(&dir).join(name))
        .status()
        .expect("pdftoppm");
    assert!(status.success());
}

/// What poppler's `pdfsig` lists of the signatures of `pdf` (written in `dir`).
pub fn pdfsig(dir: &Path, pdf: &[u8]) -> String {
    let path = dir.join("for-pdfsig.pdf");
    std::fs::write(&path, pdf).expect("written");
    let out = Command::new("pdfsig")
        .arg(&path)
        .output()
        .expect("pdfsig (poppler-utils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `POST /api/v1/verify` with `pdf`: the answer (which must be 200).
pub async fn verify_api(app: &super::TestApp, pdf: &[u8]) -> serde_json::Value {
    let r = super::pages::browser()
        .post(app.url("/api/v1/verify"))
        .header("content-type", "application/pdf")
        .body(pdf.to_vec())
        .send()
        .await
        .expect("verify");
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    r.json().await.expect("json")
}

/// `POST /xac-thuc` with `pdf` named `name` as a browser's form would send it: the status
/// and the page.
pub async fn verify_page(app: &super::TestApp, name: &str, pdf: &[u8]) -> (reqwest::StatusCode, String) {
    let boundary = "----motcua-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = super::pages::browser()
        .post(app.url("/xac-thuc"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .expect("page");
    let status = r.status();
    (status, r.text().await.expect("text"))
}
