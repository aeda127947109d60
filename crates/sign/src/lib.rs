//! Digital signatures of the documents motcua issues and receives (issue 22).
//!
//! - [`token`]: the signing key, which never leaves its PKCS#11 token (an agency's USB
//!   token or network HSM; SoftHSM2 in tests and the demo). The PIN is read from an
//!   environment variable when a signature is made and is never kept, logged or stored.
//! - [`sign_pdf`]: a PAdES baseline B-B signature (ETSI EN 319 142-1) added to a PDF as an
//!   incremental update, with a visible stamp ([`Stamp`]) at the bottom right of the last
//!   page.
//! - [`verify_pdf`]: every signature of a PDF checked: integrity, byte ranges, the signer's
//!   certificate and its chain to the administrator's trust anchors ([`TrustAnchors`]),
//!   validity at signing time, and the signature time-stamp when there is one; a signature
//!   followed only by later signatures is valid ([`revisions`], [`LaterChanges`]).
//! - [`sign_pdf_timestamped`]: the same with an RFC 3161 time-stamp from a time-stamp
//!   authority (PAdES B-T), [`tsp`].
//! - [`revocation`]: OCSP requests and answers, CRLs, for each certificate of a chain.
//!
//! The crate does no network I/O and knows nothing of dossiers: the caller posts
//! time-stamp requests and fetches OCSP answers and CRLs, decides what to sign with which
//! key, and how to show a [`SignatureReport`].

mod cms_sig;
mod font;
mod pdf;
pub mod revisions;
pub mod revocation;
mod stamp;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;
pub mod tsp;
mod verify;

pub use pdf::{PostTimeStampRequest, SignOptions, sign_pdf, sign_pdf_timestamped};
pub use revisions::LaterChanges;
pub use stamp::Stamp;
pub use token::{KeyAlgorithm, TokenConfig, TokenSigner};
pub use verify::{Revocation, SignatureReport, TimestampReport, TrustAnchors, Verdict, fingerprint, verify_pdf};

/// What can go wrong while signing or reading signatures.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The PKCS#11 module, token, key or certificate could not be used.
    #[error("token: {0}")]
    Token(String),
    /// The PDF could not be read or updated.
    #[error("pdf: {0}")]
    Pdf(String),
    /// A certificate or CMS structure could not be encoded or decoded.
    #[error("asn.1: {0}")]
    Asn1(String),
    /// The time-stamp authority could not be reached, refused, or answered with a token
    /// that does not hold.
    #[error("time-stamp: {0}")]
    TimeStamp(String),
    /// A file (certificate, trust anchor) could not be read.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

impl From<der::Error> for SignError {
    fn from(e: der::Error) -> Self {
        Self::Asn1(e.to_string())
    }
}

impl From<lopdf::Error> for SignError {
    fn from(e: lopdf::Error) -> Self {
        Self::Pdf(e.to_string())
    }
}

/// The common name (CN) of an X.509 name, if any.
pub(crate) fn common_name(name: &x509_cert::name::Name) -> Option<String> {
    name.common_name().ok().flatten().map(|s| s.value().into_owned())
}

/// The organisation (O) of an X.509 name, if any.
pub(crate) fn organisation(name: &x509_cert::name::Name) -> Option<String> {
    name.organization().ok().flatten().map(|s| s.value().into_owned())
}
