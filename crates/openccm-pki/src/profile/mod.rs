//! The issuance profile (RFC 5280): building, linting and signing.
//!
//! The flow is one way: [`build`] turns a [`TbsRequest`] into the DER of a
//! `TBSCertificate` and passes it to [`lint`], which decodes it, checks
//! every rule and alone makes a [`LintedTbs`]; only a `LintedTbs` can be
//! signed ([`LintedTbs::sign`]: Boulder's "sign only what was linted", as a
//! type), and signing consumes it, so a TBS cannot be signed twice.
//!
//! - [`build`]: request to DER (`build.rs`).
//! - [`lint`]: the rules, one function each, on the decoded DER (`lint.rs`).
//! - [`sign`]: the [`Signer`] custody implements, `LintedTbs` (`sign.rs`).
//! - [`Serial`]: serial numbers (`serial.rs`).
//! - [`KeyUsageSet`], [`ExtendedKeyUsageFlags`]: usages (`usage.rs`).
//! - [`check_name_constraints`]: subordinate CAs' name constraints.

use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::Decode as _;
use sha2::{Digest as _, Sha256};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::NameConstraints;
use x509_cert::ext::Extension;
use x509_cert::name::Name;

use crate::algorithm::{HashAlgorithm, KeyAlgorithm};
use crate::san::AltName;
use crate::{PkiError, PkiResult};

mod build;
pub mod lint;
mod name_constraints;
mod serial;
pub mod sign;
mod usage;

pub use build::build;
pub use lint::{lint, Intent, MAX_PATH_LENGTH};
pub use name_constraints::{check_name_constraints, permitted_dns_names, MAX_NAME_SUBTREES};
pub use serial::Serial;
pub use sign::{sign_checked, LintedTbs, SignedCertificate, Signer};
pub use usage::{ExtendedKeyUsageFlags, KeyUsageSet, KEY_USAGE_NAMES};

/// Extension OIDs (RFC 5280 §4.2).
pub mod oid {
    use const_oid::ObjectIdentifier;

    /// subjectKeyIdentifier.
    pub const SKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
    /// keyUsage.
    pub const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
    /// subjectAltName.
    pub const SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
    /// basicConstraints.
    pub const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
    /// nameConstraints.
    pub const NAME_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.30");
    /// cRLDistributionPoints.
    pub const CRL_DP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.31");
    /// authorityKeyIdentifier.
    pub const AKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
    /// extKeyUsage.
    pub const EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
    /// authorityInfoAccess.
    pub const AIA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
    /// id-ad-ocsp.
    pub const AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
    /// id-ad-caIssuers.
    pub const AD_CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");
    /// id-kp-serverAuth.
    pub const KP_SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
    /// id-kp-clientAuth.
    pub const KP_CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
    /// id-kp-codeSigning.
    pub const KP_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
    /// id-kp-emailProtection.
    pub const KP_EMAIL_PROTECTION: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
    /// id-kp-timeStamping.
    pub const KP_TIME_STAMPING: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
    /// Microsoft smart-card logon.
    pub const KP_SMART_CARD_LOGON: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.2");
}

/// What kind of certificate is being issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertKind {
    /// A self-signed root CA (no path length limit).
    Root,
    /// A subordinate CA with this path length constraint.
    SubordinateCa {
        /// pathLenConstraint (0–6).
        path_length: u8,
    },
    /// An end-entity certificate.
    EndEntity,
}

/// The issuing CA, as the profile needs it.
#[derive(Debug, Clone)]
pub struct IssuerInfo {
    /// The issuer's subject name (exactly as in its certificate).
    pub name: Name,
    /// The issuer's subject key identifier.
    pub key_identifier: Vec<u8>,
    /// Its validity, epoch ms.
    pub not_before: i64,
    /// Its validity, epoch ms.
    pub not_after: i64,
    /// Its pathLenConstraint; `None` = unlimited.
    pub path_length: Option<u8>,
    /// Its key algorithm.
    pub key_algorithm: KeyAlgorithm,
}

/// Everything a certificate is built from.
#[derive(Debug, Clone)]
pub struct TbsRequest {
    /// The serial.
    pub serial: Serial,
    /// The subject name.
    pub subject: Name,
    /// The subject's public key (SubjectPublicKeyInfo DER).
    pub subject_public_key: Vec<u8>,
    /// The signature hash.
    pub hash: HashAlgorithm,
    /// notBefore, epoch ms.
    pub not_before: i64,
    /// notAfter, epoch ms.
    pub not_after: i64,
    /// Root, subordinate CA or end entity.
    pub kind: CertKind,
    /// Key usages.
    pub key_usage: KeyUsageSet,
    /// Extended key usages.
    pub extended_key_usage: ExtendedKeyUsageFlags,
    /// Subject alternative names.
    pub alt_names: Vec<AltName>,
    /// SANs copied from a CSR (already validated).
    pub raw_alt_names: Vec<GeneralName>,
    /// One custom, non-critical extension: OID and UTF-8 value.
    pub custom_extension: Option<(ObjectIdentifier, String)>,
    /// CRL distribution point URL.
    pub crl_url: Option<String>,
    /// OCSP responder URL (AIA).
    pub ocsp_url: Option<String>,
    /// CA issuers URL (AIA).
    pub ca_issuers_url: Option<String>,
    /// Name constraints of a subordinate CA (critical, RFC 5280 §4.2.1.10).
    pub name_constraints: Option<NameConstraints>,
}

/// The subject key identifier of a public key: the leftmost 160 bits of the
/// SHA-256 of the subjectPublicKey BIT STRING value (RFC 7093 §2, method 1).
pub fn key_identifier(spki_der: &[u8]) -> PkiResult<Vec<u8>> {
    let spki =
        SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|e| PkiError::Key(e.to_string()))?;
    let digest = Sha256::digest(spki.subject_public_key.raw_bytes());
    Ok(digest.get(..20).map(<[u8]>::to_vec).unwrap_or_default())
}

/// An extension whose value is the DER of `value`.
pub(crate) fn extension(
    oid: ObjectIdentifier,
    critical: bool,
    value: &impl der::Encode,
) -> PkiResult<Extension> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(crate::encoding)?)
            .map_err(crate::encoding)?,
    })
}

/// OIDs a custom extension may not use: the profile owns them.
const MANAGED: [ObjectIdentifier; 9] = [
    oid::NAME_CONSTRAINTS,
    oid::SKI,
    oid::KEY_USAGE,
    oid::SAN,
    oid::BASIC_CONSTRAINTS,
    oid::CRL_DP,
    oid::AKI,
    oid::EKU,
    oid::AIA,
];
