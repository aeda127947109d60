//! Digital signatures in the server (issue 22): the agencies' keys, each opened from its
//! PKCS#11 token on first use (`config.signing_keys`), and the trust anchors that signed
//! PDFs are checked against (`config.trust_anchors_dir`). With no key configured forms are
//! issued unsigned, so a bare `motcua serve` needs no token.
//!
//! Signing talks to a token and is CPU work: callers run [`Signing::sign`] off the async
//! runtime (the form queue's low-priority thread, or `AppState::on_cpu`).
//!
//! With `config.tsa_url`, each signature also gets an RFC 3161 signature time-stamp
//! (PAdES B-T), asked of the time-stamp authority while signing. When the authority cannot
//! be reached, refuses, or answers with a token that does not hold, signing fails like an
//! unusable token: the error is logged, the document is not stored, and it is drawn and
//! signed again the next time it is issued or downloaded. A document is never issued
//! without the time-stamp the configuration promises.
//!
//! [`Signing::check_revocation`] asks the OCSP responders and CRLs named by the
//! certificates of trusted signatures (see `motcua_sign::revocation`), asynchronously, each
//! request at most [`FETCH_TIMEOUT`] and all of one document's at most
//! [`REVOCATION_BUDGET`]; answers (and failures) are kept a while, so that a dossier page
//! listing many files signed under one CA asks once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use motcua_sign::revocation::{self, Link, Outcome, Source, Status};
use motcua_sign::{SignOptions, SignatureReport, Stamp, TokenConfig, TokenSigner, TrustAnchors};
use time::OffsetDateTime;

use crate::config::Config;
use crate::error::AppError;

/// The configured keys and trust anchors.
#[derive(Debug, Default)]
pub struct Signing {
    /// Agency code (or `*`) → where its key is.
    keys: Vec<(String, TokenConfig)>,
    /// Keys opened so far, by the same agency code.
    opened: Mutex<HashMap<String, Arc<TokenSigner>>>,
    anchors: TrustAnchors,
    /// The time-stamp authority, when signatures are time-stamped.
    tsa: Option<Tsa>,
    /// The client revocation answers are fetched with.
    http: reqwest::Client,
    /// Answers fetched lately (and failures), by request.
    answers: Mutex<HashMap<String, Answer>>,
}

/// A time-stamp authority (`config.tsa_url`).
#[derive(Debug, Clone)]
struct Tsa {
    url: String,
    username: String,
    password: String,
}

/// A revocation answer kept for a while: the bytes, or why there are none.
#[derive(Debug, Clone)]
struct Answer {
    until: Instant,
    result: Result<Vec<u8>, String>,
}

/// One OCSP or CRL request at most this long.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// All the revocation requests for one document at most this long.
pub const REVOCATION_BUDGET: Duration = Duration::from_secs(5);
/// How long an answer is reused; a failure is retried sooner.
const ANSWER_TTL: Duration = Duration::from_secs(300);
const FAILURE_TTL: Duration = Duration::from_secs(60);
/// Answers kept at most (a CRL can be large).
const ANSWERS_KEPT: usize = 256;
/// The largest OCSP answer or CRL read.
const MAX_ANSWER: usize = 32 * 1024 * 1024;
/// A time-stamp authority has this long to answer.
const TSA_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest time-stamp response read.
const MAX_TSA_ANSWER: usize = 1024 * 1024;

/// What a signed document says about its issuer besides the certificate.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// The issuing agency's code: which key signs.
    pub agency: String,
    /// Its name, shown on the stamp when the certificate names no organisation.
    pub name: String,
    /// The province, as the signature's location.
    pub place: String,
}

/// How a leader's key is named among the keys: `user:<username>:<agency or empty>`. Agency
/// codes never begin so, and the `*` fallback never picks a leader's key.
const USER_KEY: &str = "user:";

/// The name of configured key `k` among the keys: its agency (or `*`), or for a leader's
/// key [`USER_KEY`], the username and the agency it is limited to.
fn key_name(k: &crate::config::SigningKey) -> String {
    let user = k.user.trim();
    if user.is_empty() {
        k.agency.trim().to_owned()
    } else {
        format!("{USER_KEY}{user}:{}", k.agency.trim())
    }
}

/// A result file signed at finish: the bytes, and who signed in order
/// (`leader:<username>`, `agency:<code>`).
#[derive(Debug, Clone)]
pub struct SignedResult {
    /// The signed PDF.
    pub pdf: Vec<u8>,
    /// Who signed, in order.
    pub signers: Vec<String>,
}

/// Why a result file was not signed.
#[derive(Debug)]
pub enum ResultSignError {
    /// A key could not be used now (token missing, PIN refused): try again later.
    Unavailable(AppError),
    /// The file cannot be signed (an encrypted or damaged PDF): trying again will not help.
    Unsignable(String),
}

impl Signing {
    /// Whether documents of `agency` are signed: it has a key of its own, or the `*` key
    /// is configured.
    pub fn signs_for(&self, agency: &str) -> bool {
        self.keys.iter().any(|(a, _)| a == agency || a == "*")
    }

    /// The name of the key of leader `user` acting for `agency`, when one is configured:
    /// one limited to `agency` before one for any agency.
    fn leader_key(&self, user: &str, agency: &str) -> Option<&str> {
        let user = user.trim();
        if user.is_empty() {
            return None;
        }
        let exact = format!("{USER_KEY}{user}:{agency}");
        let any = format!("{USER_KEY}{user}:");
        let names = || self.keys.iter().map(|(n, _)| n.as_str());
        names().find(|n| *n == exact).or_else(|| names().find(|n| *n == any))
    }

    /// Whether leader `user` acting for `agency` has a key of their own.
    pub fn has_leader_key(&self, user: &str, agency: &str) -> bool {
        self.leader_key(user, agency).is_some()
    }

    /// Result file `pdf` signed at `at` (PAdES B-B or B-T, incremental updates, so signatures
    /// already in it stay valid): first with the key of `leader` when they have one for
    /// `issuer.agency`, then with the agency's key. `None` when neither has a key. Blocking:
    /// run it off the async runtime.
    pub fn sign_result(
        &self,
        pdf: &[u8],
        issuer: &Issuer,
        leader: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<Option<SignedResult>, ResultSignError> {
        let mut steps: Vec<(String, String)> = Vec::new();
        if let Some(user) = leader
            && let Some(name) = self.leader_key(user, &issuer.agency)
        {
            steps.push((name.to_owned(), format!("leader:{}", user.trim())));
        }
        if self.signs_for(&issuer.agency) {
            steps.push((issuer.agency.clone(), format!("agency:{}", issuer.agency)));
        }
        if steps.is_empty() {
            return Ok(None);
        }
        let mut bytes = pdf.to_vec();
        let mut signers = Vec::new();
        for (key, who) in steps {
            // Opening the token first tells a key that cannot be used now from a file that
            // cannot be signed at all.
            self.signer(&key).map_err(ResultSignError::Unavailable)?;
            let as_key = Issuer {
                agency: key,
                ..issuer.clone()
            };
            match self.sign(&bytes, &as_key, at) {
                Ok(Some(signed)) => bytes = signed,
                Ok(None) => continue,
                // The signing library reports a document it cannot update as `pdf: …`.
                Err(AppError::Internal(m)) if m.contains("failed: pdf:") => {
                    return Err(ResultSignError::Unsignable(m));
                }
                Err(e) => return Err(ResultSignError::Unavailable(e)),
            }
            signers.push(who);
        }
        Ok(Some(SignedResult { pdf: bytes, signers }))
    }

    /// The keys of `config` (not opened yet) and its trust anchors, read now. Unreadable
    /// anchors are logged and leave none: every signature is then of an unknown issuer.
    pub fn from_config(config: &Config) -> Self {
        let keys = config
            .signing_keys
            .iter()
            .map(|k| {
                let token = TokenConfig {
                    module: k.module.clone(),
                    token_label: (!k.token_label.trim().is_empty()).then(|| k.token_label.trim().to_owned()),
                    slot: k.slot,
                    key_label: k.key_label.clone(),
                    pin_env: k.pin_env.clone(),
                    certificate_file: (!k.certificate_file.as_os_str().is_empty()).then(|| k.certificate_file.clone()),
                };
                (key_name(k), token)
            })
            .collect();
        let dir: PathBuf = config.trust_anchors_path();
        let anchors = TrustAnchors::load_dir(&dir).unwrap_or_else(|e| {
            tracing::error!(dir = %dir.display(), error = %e, "cannot read the trust anchors");
            TrustAnchors::default()
        });
        tracing::info!(
            keys = config.signing_keys.len(),
            anchors = anchors.len(),
            "digital signatures configured"
        );
        let tsa = (!config.tsa_url.trim().is_empty()).then(|| Tsa {
            url: config.tsa_url.trim().to_owned(),
            username: config.tsa_username.clone(),
            password: config.tsa_password.clone(),
        });
        if let Some(tsa) = &tsa {
            tracing::info!(url = %tsa.url, "signatures are time-stamped (PAdES B-T)");
        }
        Self {
            keys,
            opened: Mutex::default(),
            anchors,
            tsa,
            http: reqwest::Client::new(),
            answers: Mutex::default(),
        }
    }

    /// Whether signatures get a time-stamp from a time-stamp authority.
    pub fn time_stamps(&self) -> bool {
        self.tsa.is_some()
    }

    /// Whether any agency signs.
    pub fn enabled(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The roots signatures are checked against.
    pub fn anchors(&self) -> &TrustAnchors {
        &self.anchors
    }

    /// The key that signs `agency`'s documents: its own, else the `*` key. `None` when
    /// neither is configured. Opens the token the first time (blocking).
    fn signer(&self, agency: &str) -> Result<Option<Arc<TokenSigner>>, AppError> {
        let Some((name, config)) = self
            .keys
            .iter()
            .find(|(a, _)| a == agency)
            .or_else(|| self.keys.iter().find(|(a, _)| a == "*"))
        else {
            return Ok(None);
        };
        let mut opened = self.opened.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = opened.get(name) {
            return Ok(Some(Arc::clone(s)));
        }
        let signer = Arc::new(
            TokenSigner::open(config)
                .map_err(|e| AppError::Internal(format!("the signing key of agency {name} cannot be used: {e}")))?,
        );
        opened.insert(name.clone(), Arc::clone(&signer));
        Ok(Some(signer))
    }

    /// `pdf` signed with the key of `issuer.agency` at `at` (PAdES B-B, or B-T with a
    /// time-stamp when a TSA is configured; visible stamp), or `None` when that agency has no
    /// key. Blocking: run it off the async runtime. A TSA that cannot be had is
    /// `AppError::Unavailable` (try again later).
    pub fn sign(&self, pdf: &[u8], issuer: &Issuer, at: OffsetDateTime) -> Result<Option<Vec<u8>>, AppError> {
        let Some(signer) = self.signer(&issuer.agency)? else {
            return Ok(None);
        };
        let subject = signer.certificate().tbs_certificate().subject();
        let common_name = subject
            .common_name()
            .ok()
            .flatten()
            .map(|s| s.value().into_owned())
            .unwrap_or_else(|| issuer.name.clone());
        let organisation = subject
            .organization()
            .ok()
            .flatten()
            .map(|s| s.value().into_owned())
            .unwrap_or_else(|| issuer.name.clone());
        let options = SignOptions {
            stamp: Stamp {
                signer: common_name,
                organisation,
                time: at,
            },
            reason: Some(format!("Văn bản do {} ban hành", issuer.name)),
            location: (!issuer.place.is_empty()).then(|| issuer.place.clone()),
        };
        let started = std::time::Instant::now();
        let signed = match &self.tsa {
            None => motcua_sign::sign_pdf(pdf, &signer, &options),
            Some(tsa) => motcua_sign::sign_pdf_timestamped(pdf, &signer, &options, &|request| tsa.post(request)),
        }
        .map_err(|e| {
            tracing::error!(agency = %issuer.agency, error = %e, "a document cannot be signed; it is issued when it can");
            match e {
                // The authority is another service: try again later, like any unavailable one.
                motcua_sign::SignError::TimeStamp(_) => AppError::Unavailable(
                    "Chưa lấy được dấu thời gian cho văn bản; văn bản sẽ được cấp khi lấy được. Vui lòng thử lại sau ít phút."
                        .to_owned(),
                ),
                e => AppError::Internal(format!("signing for agency {} failed: {e}", issuer.agency)),
            }
        })?;
        metrics::histogram!("motcua_form_sign_seconds").record(started.elapsed().as_secs_f64());
        Ok(Some(signed))
    }
}

impl Tsa {
    /// Posts an RFC 3161 request and returns the answer. Blocking (signing runs off the
    /// async runtime): the request runs on a thread of its own with its own small runtime,
    /// whichever thread signs.
    fn post(&self, request: &[u8]) -> Result<Vec<u8>, String> {
        let send = async {
            let client = reqwest::Client::builder()
                .timeout(TSA_TIMEOUT)
                .build()
                .map_err(|e| e.to_string())?;
            let mut req = client
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/timestamp-query")
                .body(request.to_vec());
            if !self.username.is_empty() {
                req = req.basic_auth(&self.username, Some(&self.password));
            }
            let resp = req.send().await.map_err(|e| format!("{}: {e}", self.url))?;
            if !resp.status().is_success() {
                return Err(format!("{} answered {}", self.url, resp.status()));
            }
            crate::limits::read_limited(resp, MAX_TSA_ANSWER).await
        };
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())?
                        .block_on(send)
                })
                .join()
                .unwrap_or_else(|_| Err("the time-stamp request stopped".to_owned()))
        })
    }
}

impl Signing {
    /// Checks the revocation of the chain of each trusted signature among `reports` at
    /// `now` (OCSP, else CRL) and sets its `revocation` (and its verdict, when revoked).
    /// Asynchronous, bounded by [`REVOCATION_BUDGET`] in all; what is not answered in time
    /// is `not_checked`.
    pub async fn check_revocation(&self, reports: &mut [SignatureReport], now: OffsetDateTime) {
        let deadline = Instant::now() + REVOCATION_BUDGET;
        for report in reports.iter_mut().filter(|r| !r.path.is_empty()) {
            let mut outcomes = Vec::new();
            for link in revocation::links(report) {
                outcomes.push(Outcome {
                    certificate: link.name(),
                    result: self.ask(&link, now, deadline).await,
                });
            }
            revocation::conclude(report, &outcomes);
        }
    }

    /// The status of one link: its OCSP responder first, then its CRLs.
    async fn ask(&self, link: &Link, now: OffsetDateTime, deadline: Instant) -> Result<(Status, Source), String> {
        let mut why = Vec::new();
        if let Some(url) = link.ocsp_url() {
            let answer = match link.ocsp_request() {
                Ok(body) => self.fetch(&url, Some(body), deadline).await,
                Err(e) => Err(e.to_string()),
            };
            match answer.and_then(|a| link.ocsp_status(&a, now)) {
                Ok(status) => return Ok((status, Source::Ocsp)),
                Err(e) => why.push(format!("OCSP: {e}")),
            }
        }
        for url in link.crl_urls() {
            let answer = self.fetch(&url, None, deadline).await;
            let status = match answer {
                Ok(crl) => {
                    // A CRL can be megabytes: read and checked off the runtime.
                    let link = link.clone();
                    tokio::task::spawn_blocking(move || link.crl_status(&crl, now))
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()))
                }
                Err(e) => Err(e),
            };
            match status {
                Ok(status) => return Ok((status, Source::Crl)),
                Err(e) => why.push(format!("CRL: {e}")),
            }
        }
        if why.is_empty() {
            Err("chứng thư số không ghi địa chỉ tra cứu OCSP hay CRL".to_owned())
        } else {
            Err(why.join("; "))
        }
    }

    /// The answer of `url` to `body` (an OCSP POST) or to a GET (a CRL): kept, or fetched
    /// within what is left until `deadline`.
    async fn fetch(&self, url: &str, body: Option<Vec<u8>>, deadline: Instant) -> Result<Vec<u8>, String> {
        let key = match &body {
            Some(b) => format!("POST {url} {}", motcua_sign::fingerprint(b)),
            None => format!("GET {url}"),
        };
        if let Some(kept) = self
            .answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .filter(|a| a.until > Instant::now())
        {
            return kept.result.clone();
        }
        let left = deadline.saturating_duration_since(Instant::now()).min(FETCH_TIMEOUT);
        if left.is_zero() {
            return Err("hết thời gian tra cứu".to_owned());
        }
        let request = match body {
            Some(b) => self
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/ocsp-request")
                .body(b),
            None => self.http.get(url),
        };
        let result = match request.timeout(left).send().await {
            Ok(resp) if resp.status().is_success() => crate::limits::read_limited(resp, MAX_ANSWER).await,
            Ok(resp) => Err(format!("{url} trả lời {}", resp.status())),
            Err(e) if e.is_timeout() => Err(format!("{url} không trả lời kịp")),
            Err(_) => Err(format!("không kết nối được tới {url}")),
        };
        if let Err(e) = &result {
            tracing::warn!(url, error = %e, "a revocation answer cannot be had");
        }
        let until = Instant::now() + if result.is_ok() { ANSWER_TTL } else { FAILURE_TTL };
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        if answers.len() >= ANSWERS_KEPT {
            let now = Instant::now();
            answers.retain(|_, a| a.until > now);
            if answers.len() >= ANSWERS_KEPT {
                answers.clear();
            }
        }
        answers.insert(
            key,
            Answer {
                until,
                result: result.clone(),
            },
        );
        result
    }
}
