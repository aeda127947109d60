//! Digital signatures in the server (issue 22): the agencies' keys, each opened from its
//! PKCS#11 token on first use (`config.signing_keys`), and the trust anchors that signed
//! PDFs are checked against (`config.trust_anchors_dir`). With no key configured forms are
//! issued unsigned, so a bare `motcua serve` needs no token.
//!
//! Signing talks to a token and is CPU work: callers run [`Signing::sign`] off the async
//! runtime (the form queue's low-priority thread, or `AppState::on_cpu`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use motcua_sign::{SignOptions, Stamp, TokenConfig, TokenSigner, TrustAnchors};
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
}

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

impl Signing {
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
                (k.agency.trim().to_owned(), token)
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
        Self {
            keys,
            opened: Mutex::default(),
            anchors,
        }
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

    /// `pdf` signed with the key of `issuer.agency` at `at` (PAdES B-B, visible stamp), or
    /// `None` when that agency has no key. Blocking: run it off the async runtime.
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
        let signed = motcua_sign::sign_pdf(pdf, &signer, &options)
            .map_err(|e| AppError::Internal(format!("signing for agency {} failed: {e}", issuer.agency)))?;
        metrics::histogram!("motcua_form_sign_seconds").record(started.elapsed().as_secs_f64());
        Ok(Some(signed))
    }
}
