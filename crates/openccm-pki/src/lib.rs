//! The certificate core.
//!
//! Owns what a certificate *is*: key and signature algorithms, distinguished
//! names and alternative names with their rules, the RFC 5280 profile that
//! turns an issuance request into a `TBSCertificate`, the pre-issuance lints
//! (only a linted TBS can be signed), CSR and certificate parsing, and
//! signature verification.
//!
//! It must never do I/O, read the clock or draw randomness: time and serial
//! numbers are arguments. Private keys stay in `openccm-custody`, which
//! implements [`Signer`].
//!
//! Modules:
//! - [`algorithm`]: `KeyAlgorithm`, `HashAlgorithm`, signature algorithm identifiers.
//! - [`name`]: `DistinguishedName` (the API's subject object) and X.509 names.
//! - [`san`]: subject alternative names.
//! - [`profile`]: issuance requests, extensions, the lint, `LintedTbs`, signing.
//! - [`csr`]: PKCS#10 parsing and verification.
//! - [`cert`]: certificate parsing, key matching, chain links.
//! - [`crl`]: full and delta CRLs, streamed and signed.
//! - [`ocsp`]: OCSP requests parsed, responses built and signed.
//! - [`key`]: private keys handed in by customers (PKCS#1, SEC1, PKCS#8).
//! - [`jws`]: flattened JWS and JWKs as ACME uses them (ES256/384, RS256, EdDSA, HS256).
//! - [`pem`]: bounded PEM decoding and CRLF/LF encoding.
//! - [`verify`]: signature verification (RSA, ECDSA, SM2 with SM3).
//! - [`sm2`]: SM2's `Z_A` with the standard default user id.
//! - [`time`]: epoch milliseconds and X.509 times.

pub mod algorithm;
pub mod cert;
pub mod crl;
pub mod csr;
pub mod jws;
pub mod key;
pub mod name;
pub mod ocsp;
pub mod pem;
pub mod profile;
pub mod san;
pub mod sm2;
pub mod time;
pub mod verify;

pub use algorithm::{HashAlgorithm, KeyAlgorithm};
pub use name::DistinguishedName;
pub use profile::{LintedTbs, Signer};

/// Errors of the certificate core. Each names the rule that was broken; the
/// messages are safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// A distinguished-name field breaks its length or character rules.
    #[error("invalid distinguished name: {0}")]
    DistinguishedName(String),
    /// Unknown or unsupported key algorithm.
    #[error("invalid key algorithm: {0}")]
    KeyAlgorithm(String),
    /// Unknown signature hash, or one that does not fit the key.
    #[error("invalid signature algorithm: {0}")]
    SignatureAlgorithm(String),
    /// A validity that is malformed or outside what the issuer allows.
    #[error("invalid validity: {0}")]
    Validity(String),
    /// A SAN DNS name is not a valid domain name.
    #[error("invalid domain name: {0}")]
    DomainName(String),
    /// A SAN IP is not an IPv4 or IPv6 address.
    #[error("invalid IP address: {0}")]
    IpAddress(String),
    /// A SAN of an unknown type, or an invalid email or URI.
    #[error("invalid subject alternative name: {0}")]
    AlternativeName(String),
    /// A key usage, extended key usage or custom extension that is not allowed.
    #[error("invalid extension: {0}")]
    Extension(String),
    /// The CSR cannot be parsed, is too large, or its signature does not verify.
    #[error("invalid CSR: {0}")]
    Csr(String),
    /// A certificate cannot be parsed or does not fit where it is used.
    #[error("invalid certificate: {0}")]
    Certificate(String),
    /// A key cannot be parsed or does not match.
    #[error("invalid key: {0}")]
    Key(String),
    /// A JWS or JWK that is malformed, or whose signature does not verify.
    #[error("invalid JWS: {0}")]
    Jws(String),
    /// A private key is not framed as PEM.
    #[error("invalid key format: {0}")]
    KeyFormat(String),
    /// The pre-issuance lint refused the TBS certificate (a bug upstream: the
    /// request checks should have refused it first).
    #[error("pre-issuance lint failed: {0}")]
    Lint(String),
    /// The signer failed, or produced a signature that does not verify.
    #[error("signing failed: {0}")]
    Signing(String),
    /// DER encoding failed (a bug).
    #[error("encoding failed: {0}")]
    Encoding(String),
}

/// The result type of this crate.
pub type PkiResult<T> = Result<T, PkiError>;

pub(crate) fn encoding(err: impl std::fmt::Display) -> PkiError {
    PkiError::Encoding(err.to_string())
}
