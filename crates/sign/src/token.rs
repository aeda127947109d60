//! A signing key in a PKCS#11 token (cryptoki). The private key is used in place, by its
//! label; only the certificate (public) is read out. The PIN comes from an environment
//! variable named in the configuration, read at each signature and dropped at once
//! (`secrecy` zeroes it): it is never kept in this struct, logged, or stored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use const_oid::ObjectIdentifier;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use der::{Decode, Encode};
use sha2_11::Digest;
use x509_cert::Certificate;

use crate::SignError;

/// Where a signing key is: the PKCS#11 module (`.so`), the token (by label or slot), the key
/// (by label) and the environment variable holding the user PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// The PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The token's label; the first token with this label is used.
    pub token_label: Option<String>,
    /// The slot number, when the token is chosen by slot instead of label.
    pub slot: Option<u64>,
    /// The label (CKA_LABEL) of the private key, and of its certificate on the token.
    pub key_label: String,
    /// The name of the environment variable that holds the user PIN.
    pub pin_env: String,
    /// A PEM file with the signer's certificate followed by its chain (intermediates), when
    /// the certificate is not on the token (or the chain is wanted in the signature).
    pub certificate_file: Option<PathBuf>,
}

/// The kind of key, which decides the PKCS#11 mechanism and the CMS signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSA, signed as RSASSA-PKCS1-v1_5 with SHA-256.
    Rsa,
    /// ECDSA on a NIST curve, with SHA-256.
    Ecdsa,
}

/// rsaEncryption (RFC 8017).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-ecPublicKey (RFC 5480).
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

impl KeyAlgorithm {
    /// The algorithm of a certificate's public key.
    pub fn of(cert: &Certificate) -> Result<Self, SignError> {
        let oid = cert.tbs_certificate().subject_public_key_info().algorithm.oid;
        if oid == RSA_ENCRYPTION {
            Ok(Self::Rsa)
        } else if oid == EC_PUBLIC_KEY {
            Ok(Self::Ecdsa)
        } else {
            Err(SignError::Token(format!("unsupported key algorithm {oid}")))
        }
    }
}

/// One loaded module per path: a PKCS#11 library is initialised once per process, and
/// agencies sharing a module share it.
pub(crate) fn module(path: &Path) -> Result<Pkcs11, SignError> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut modules = MODULES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(m) = modules.get(path) {
        return Ok(m.clone());
    }
    let ctx = Pkcs11::new(path).map_err(|e| SignError::Token(format!("cannot load {}: {e}", path.display())))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(SignError::Token(format!("cannot initialise {}: {e}", path.display()))),
    }
    modules.insert(path.to_owned(), ctx.clone());
    Ok(ctx)
}

/// A key on a token, ready to sign: the slot is found and the certificate read once.
#[derive(Debug, Clone)]
pub struct TokenSigner {
    ctx: Pkcs11,
    slot: Slot,
    key_label: String,
    pin_env: String,
    certificate: Certificate,
    chain: Vec<Certificate>,
    algorithm: KeyAlgorithm,
}

impl TokenSigner {
    /// Opens the token of `config`, logs in once to check the PIN and the key, and reads the
    /// certificate (from `certificate_file`, else from the token under the key's label).
    pub fn open(config: &TokenConfig) -> Result<Self, SignError> {
        let ctx = module(&config.module)?;
        let slot = find_slot(&ctx, config)?;
        let (certificate, chain) = match &config.certificate_file {
            Some(path) => read_chain(path)?,
            None => (certificate_on_token(&ctx, slot, &config.key_label)?, Vec::new()),
        };
        let algorithm = KeyAlgorithm::of(&certificate)?;
        let signer = Self {
            ctx,
            slot,
            key_label: config.key_label.clone(),
            pin_env: config.pin_env.clone(),
            certificate,
            chain,
            algorithm,
        };
        // Fail at start, not at the first document: the PIN opens the token and the key is there.
        let session = signer.session()?;
        signer.private_key(&session)?;
        Ok(signer)
    }

    /// The signer's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The intermediate certificates put in each signature, signer's issuer first.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// Signs `data` (the DER of the signed attributes) with SHA-256: RSA PKCS#1 v1.5, or
    /// ECDSA returned DER-encoded as CMS wants it.
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SignError> {
        let session = self.session()?;
        let key = self.private_key(&session)?;
        match self.algorithm {
            KeyAlgorithm::Rsa => session
                .sign(&Mechanism::Sha256RsaPkcs, key, data)
                .map_err(|e| SignError::Token(format!("signing failed: {e}"))),
            KeyAlgorithm::Ecdsa => {
                // Plain CKM_ECDSA over the hash: every token has it, unlike CKM_ECDSA_SHA256.
                let hash = sha2_11::Sha256::digest(data);
                let raw = session
                    .sign(&Mechanism::Ecdsa, key, &hash)
                    .map_err(|e| SignError::Token(format!("signing failed: {e}")))?;
                ecdsa_raw_to_der(&raw)
            }
        }
    }

    fn session(&self) -> Result<Session, SignError> {
        let session = self
            .ctx
            .open_ro_session(self.slot)
            .map_err(|e| SignError::Token(format!("cannot open a session: {e}")))?;
        let pin = std::env::var(&self.pin_env)
            .map_err(|_| SignError::Token(format!("the PIN variable {} is not set", self.pin_env)))?;
        let pin = AuthPin::from(pin);
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {
                Ok(session)
            }
            Err(e) => Err(SignError::Token(format!("login refused: {e}"))),
        }
    }

    fn private_key(&self, session: &Session) -> Result<ObjectHandle, SignError> {
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(self.key_label.as_bytes().to_vec()),
            ])
            .map_err(|e| SignError::Token(format!("cannot search the token: {e}")))?;
        match found.as_slice() {
            [key] => Ok(*key),
            [] => Err(SignError::Token(format!(
                "no private key labelled {:?}",
                self.key_label
            ))),
            _ => Err(SignError::Token(format!(
                "more than one private key labelled {:?}",
                self.key_label
            ))),
        }
    }
}

fn find_slot(ctx: &Pkcs11, config: &TokenConfig) -> Result<Slot, SignError> {
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| SignError::Token(format!("cannot list slots: {e}")))?;
    if let Some(id) = config.slot {
        return slots
            .into_iter()
            .find(|s| s.id() == id)
            .ok_or_else(|| SignError::Token(format!("no token in slot {id}")));
    }
    let label = config
        .token_label
        .as_deref()
        .ok_or_else(|| SignError::Token("neither a token label nor a slot is configured".to_owned()))?;
    for slot in slots {
        let info = ctx
            .get_token_info(slot)
            .map_err(|e| SignError::Token(format!("cannot read token info: {e}")))?;
        if info.label().trim_end() == label {
            return Ok(slot);
        }
    }
    Err(SignError::Token(format!("no token labelled {label:?}")))
}

fn certificate_on_token(ctx: &Pkcs11, slot: Slot, label: &str) -> Result<Certificate, SignError> {
    // Certificates are public objects: no login needed to read them.
    let session = ctx
        .open_ro_session(slot)
        .map_err(|e| SignError::Token(format!("cannot open a session: {e}")))?;
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(|e| SignError::Token(format!("cannot search the token: {e}")))?;
    let handle = found
        .first()
        .ok_or_else(|| SignError::Token(format!("no certificate labelled {label:?} on the token")))?;
    let attrs = session
        .get_attributes(*handle, &[AttributeType::Value])
        .map_err(|e| SignError::Token(format!("cannot read the certificate: {e}")))?;
    for attr in attrs {
        if let Attribute::Value(der) = attr {
            return Ok(Certificate::from_der(&der)?);
        }
    }
    Err(SignError::Token("the certificate has no value".to_owned()))
}

/// Reads a PEM (or DER) file: the first certificate and the rest.
pub(crate) fn read_chain(path: &Path) -> Result<(Certificate, Vec<Certificate>), SignError> {
    let mut all = read_certificates(path)?;
    if all.is_empty() {
        return Err(SignError::File {
            path: path.display().to_string(),
            message: "no certificate".to_owned(),
        });
    }
    let first = all.remove(0);
    Ok((first, all))
}

/// Every certificate in a PEM file, or the one in a DER file.
pub(crate) fn read_certificates(path: &Path) -> Result<Vec<Certificate>, SignError> {
    let bytes = std::fs::read(path).map_err(|e| SignError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let parsed = if bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        Certificate::load_pem_chain(&bytes)
    } else {
        Certificate::from_der(&bytes).map(|c| vec![c])
    };
    parsed.map_err(|e| SignError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// PKCS#11 returns an ECDSA signature as r ‖ s; CMS carries `SEQUENCE { r INTEGER, s INTEGER }`.
fn ecdsa_raw_to_der(raw: &[u8]) -> Result<Vec<u8>, SignError> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return Err(SignError::Token(format!("an ECDSA signature of {} bytes", raw.len())));
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let r = der::asn1::UintRef::new(r)?;
    let s = der::asn1::UintRef::new(s)?;
    #[derive(der::Sequence)]
    struct EcdsaSig<'a> {
        r: der::asn1::UintRef<'a>,
        s: der::asn1::UintRef<'a>,
    }
    Ok(EcdsaSig { r, s }.to_der()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_signatures_become_der_with_positive_integers() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // high bit set: DER needs a leading zero
        raw[32] = 0x01;
        let der = ecdsa_raw_to_der(&raw).expect("encodes");
        assert_eq!(der[0], 0x30);
        assert_eq!(&der[2..5], &[0x02, 33, 0x00]);
        assert!(ecdsa_raw_to_der(&[1, 2, 3]).is_err());
    }
}
