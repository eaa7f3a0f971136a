//! The issuance profile (RFC 5280), the pre-issuance lint and signing.
//!
//! [`build`] turns a [`TbsRequest`] into a `TBSCertificate` and lints it; only
//! the lint produces a [`LintedTbs`], and only a `LintedTbs` can be signed
//! (Boulder's "sign only what was linted", as a type). Signing consumes it,
//! so a TBS cannot be signed twice.

use std::collections::BTreeSet;

use const_oid::ObjectIdentifier;
use der::asn1::{BitString, Ia5String, OctetString, Utf8StringRef};
use der::{Decode as _, Encode as _};
use sha2::{Digest as _, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages, NameConstraints, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

use crate::algorithm::{signature_algorithm_identifier, HashAlgorithm, KeyAlgorithm};
use crate::san::AltName;
use crate::{PkiError, PkiResult};

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

/// The key usages by their API names (RFC 5280 §4.2.1.3).
pub const KEY_USAGE_NAMES: [(&str, KeyUsages); 9] = [
    ("digitalSignature", KeyUsages::DigitalSignature),
    ("nonRepudiation", KeyUsages::NonRepudiation),
    ("keyEncipherment", KeyUsages::KeyEncipherment),
    ("dataEncipherment", KeyUsages::DataEncipherment),
    ("keyAgreement", KeyUsages::KeyAgreement),
    ("keyCertSign", KeyUsages::KeyCertSign),
    ("cRLSign", KeyUsages::CRLSign),
    ("encipherOnly", KeyUsages::EncipherOnly),
    ("decipherOnly", KeyUsages::DecipherOnly),
];

/// A set of key usages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyUsageSet(pub der::flagset::FlagSet<KeyUsages>);

impl KeyUsageSet {
    /// Parses API names; unknown or repeated names are errors.
    pub fn parse(names: &[String]) -> PkiResult<Self> {
        let mut set = der::flagset::FlagSet::<KeyUsages>::default();
        for name in names {
            let (_, flag) = KEY_USAGE_NAMES
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| PkiError::Extension(format!("unknown key usage {name:?}")))?;
            if set.contains(*flag) {
                return Err(PkiError::Extension(format!("key usage {name} is repeated")));
            }
            set |= *flag;
        }
        Ok(Self(set))
    }

    /// From flags.
    pub fn of(flags: &[KeyUsages]) -> Self {
        let mut set = der::flagset::FlagSet::<KeyUsages>::default();
        for f in flags {
            set |= *f;
        }
        Self(set)
    }

    /// The API names, in RFC order.
    pub fn names(self) -> Vec<String> {
        KEY_USAGE_NAMES
            .iter()
            .filter(|(_, f)| self.0.contains(*f))
            .map(|(n, _)| (*n).to_owned())
            .collect()
    }

    /// Whether `flag` is set.
    pub fn contains(self, flag: KeyUsages) -> bool {
        self.0.contains(flag)
    }

    /// Whether no usage is set.
    pub fn is_empty(self) -> bool {
        self.0.is_empty()
    }

    /// The usages a CA gets by default: digitalSignature, keyCertSign, cRLSign.
    pub fn ca_default() -> Self {
        Self::of(&[
            KeyUsages::DigitalSignature,
            KeyUsages::KeyCertSign,
            KeyUsages::CRLSign,
        ])
    }

    /// The usages an end-entity certificate of `key` gets by default: the
    /// API's `digitalSignature, keyAgreement` where the key can agree keys
    /// (EC), `digitalSignature, keyEncipherment` for RSA (RFC 3279 §2.3.1
    /// forbids keyAgreement with RSA), `digitalSignature, nonRepudiation` for
    /// an SM2 signing certificate.
    pub fn end_entity_default(key: KeyAlgorithm) -> Self {
        match key {
            KeyAlgorithm::Ec256 | KeyAlgorithm::Ec384 => {
                Self::of(&[KeyUsages::DigitalSignature, KeyUsages::KeyAgreement])
            }
            KeyAlgorithm::Sm2 => {
                Self::of(&[KeyUsages::DigitalSignature, KeyUsages::NonRepudiation])
            }
            _ => Self::of(&[KeyUsages::DigitalSignature, KeyUsages::KeyEncipherment]),
        }
    }

    /// The usages of an SM2 encryption certificate: keyAgreement. GM/T 0015
    /// lists keyEncipherment and dataEncipherment too, but SM2 keys are
    /// id-ecPublicKey keys, for which RFC 5480 §3 forbids those two (and
    /// pkilint refuses them); keyAgreement covers TLCP's key exchange.
    pub fn sm2_encryption() -> Self {
        Self::of(&[KeyUsages::KeyAgreement])
    }

    /// Checks the usages against the key type: RSA keys never agree keys
    /// (RFC 3279 §2.3.1); EC keys, SM2 included (id-ecPublicKey), never
    /// encipher (RFC 5480 §3); encipherOnly and decipherOnly need
    /// keyAgreement (RFC 5280 §4.2.1.3).
    pub fn check_fits(self, key: KeyAlgorithm) -> PkiResult<()> {
        let has = |f| self.0.contains(f);
        if key.is_rsa()
            && (has(KeyUsages::KeyAgreement)
                || has(KeyUsages::EncipherOnly)
                || has(KeyUsages::DecipherOnly))
        {
            return Err(PkiError::Extension(
                "RSA keys cannot be used for keyAgreement (RFC 3279)".to_owned(),
            ));
        }
        if !key.is_rsa() && (has(KeyUsages::KeyEncipherment) || has(KeyUsages::DataEncipherment)) {
            return Err(PkiError::Extension(
                "EC keys cannot be used for keyEncipherment or dataEncipherment (RFC 5480)"
                    .to_owned(),
            ));
        }
        if (has(KeyUsages::EncipherOnly) || has(KeyUsages::DecipherOnly))
            && !has(KeyUsages::KeyAgreement)
        {
            return Err(PkiError::Extension(
                "encipherOnly and decipherOnly need keyAgreement".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The API's extended key usage flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(clippy::struct_excessive_bools)] // Mirrors the API's object.
pub struct ExtendedKeyUsageFlags {
    /// serverAuth.
    pub server_auth: bool,
    /// clientAuth.
    pub client_auth: bool,
    /// codeSigning.
    pub code_signing: bool,
    /// emailProtection.
    pub email_protection: bool,
    /// timeStamping.
    pub time_stamping: bool,
    /// Microsoft smart-card logon.
    pub smart_card_logon: bool,
}

impl ExtendedKeyUsageFlags {
    /// The OIDs, in a stable order.
    pub fn oids(self) -> Vec<ObjectIdentifier> {
        [
            (self.server_auth, oid::KP_SERVER_AUTH),
            (self.client_auth, oid::KP_CLIENT_AUTH),
            (self.code_signing, oid::KP_CODE_SIGNING),
            (self.email_protection, oid::KP_EMAIL_PROTECTION),
            (self.time_stamping, oid::KP_TIME_STAMPING),
            (self.smart_card_logon, oid::KP_SMART_CARD_LOGON),
        ]
        .into_iter()
        .filter_map(|(on, o)| on.then_some(o))
        .collect()
    }
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

/// An X.509 serial number: 16 octets (≤ 20, RFC 5280 §4.1.2.2), positive,
/// first octet non-zero (so DER keeps all 16).
///
/// Issued serials are [`Serial::from_time_and_random`]: the issuance time,
/// then 80 bits from a CSPRNG (≥ 64, CA/B BR §7.1). The time prefix makes
/// the store's serial index grow at its end, as its certificates table does:
/// with fully random serials every issuance rewrote (and first read) a random
/// page of an index that outgrows memory at tens of millions of certificates.
/// The prefix discloses the issuance time (to the millisecond), which
/// notBefore usually shows to the second anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serial([u8; 16]);

impl Serial {
    /// The issuance time (Unix ms, 48 bits big-endian) followed by 10 bytes
    /// drawn by the caller from a CSPRNG.
    ///
    /// From November 2004 (2^40 ms) to the year 6429 (2^47 ms) the first
    /// octet is non-zero with its top bit clear; a clock outside that range
    /// gets [`Serial::from_random`]'s adjustment of the first octet.
    pub fn from_time_and_random(unix_ms: i64, random: [u8; 10]) -> Self {
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
        bytes[6..].copy_from_slice(&random);
        Self::from_random(bytes)
    }

    /// From 16 random bytes drawn by the caller.
    pub fn from_random(mut bytes: [u8; 16]) -> Self {
        bytes[0] &= 0x7f;
        if bytes[0] == 0 {
            bytes[0] = 0x01;
        }
        Self(bytes)
    }

    /// Lower-case hex, the API's `serial_number`.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
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

fn uri(text: &str) -> PkiResult<GeneralName> {
    Ok(GeneralName::UniformResourceIdentifier(
        Ia5String::new(text).map_err(crate::encoding)?,
    ))
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

/// Builds the TBS certificate for `request` under `issuer` and lints it.
///
/// For a root, `issuer` describes the root itself. Fails when the request
/// breaks a rule; the lint then refuses anything the checks missed.
pub fn build(issuer: &IssuerInfo, request: &TbsRequest) -> PkiResult<LintedTbs> {
    let spki = SubjectPublicKeyInfoOwned::from_der(&request.subject_public_key)
        .map_err(|e| PkiError::Key(e.to_string()))?;
    let subject_key_algorithm = KeyAlgorithm::of_spki(
        &SubjectPublicKeyInfoRef::from_der(&request.subject_public_key)
            .map_err(|e| PkiError::Key(e.to_string()))?,
    )?;
    let signature = signature_algorithm_identifier(issuer.key_algorithm, request.hash)?;
    let ski = key_identifier(&request.subject_public_key)?;

    let mut extensions = Vec::new();
    let is_ca = !matches!(request.kind, CertKind::EndEntity);
    let basic = match request.kind {
        CertKind::Root => BasicConstraints {
            ca: true,
            path_len_constraint: None,
        },
        CertKind::SubordinateCa { path_length } => BasicConstraints {
            ca: true,
            path_len_constraint: Some(path_length),
        },
        CertKind::EndEntity => BasicConstraints {
            ca: false,
            path_len_constraint: None,
        },
    };
    // RFC 5280 §4.2.1.9: critical in CA certificates.
    extensions.push(extension(oid::BASIC_CONSTRAINTS, is_ca, &basic)?);
    extensions.push(extension(
        oid::KEY_USAGE,
        true,
        &KeyUsage(request.key_usage.0),
    )?);
    let ekus = request.extended_key_usage.oids();
    if !ekus.is_empty() {
        // RFC 3161 §2.3: a time-stamping certificate's EKU is critical.
        let critical = request.extended_key_usage.time_stamping;
        extensions.push(extension(oid::EKU, critical, &ExtendedKeyUsage(ekus))?);
    }
    extensions.push(extension(
        oid::SKI,
        false,
        &SubjectKeyIdentifier(OctetString::new(ski).map_err(crate::encoding)?),
    )?);
    extensions.push(extension(
        oid::AKI,
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(
                OctetString::new(issuer.key_identifier.clone()).map_err(crate::encoding)?,
            ),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
    )?);
    let mut names: Vec<GeneralName> = request
        .alt_names
        .iter()
        .map(AltName::to_general_name)
        .collect::<PkiResult<_>>()?;
    names.extend(request.raw_alt_names.iter().cloned());
    if !names.is_empty() {
        // RFC 5280 §4.2.1.6: critical when the subject is empty.
        extensions.push(extension(
            oid::SAN,
            request.subject.0.is_empty(),
            &SubjectAltName(names),
        )?);
    }
    if let Some(url) = &request.crl_url {
        extensions.push(extension(
            oid::CRL_DP,
            false,
            &CrlDistributionPoints(vec![DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![uri(url)?])),
                reasons: None,
                crl_issuer: None,
            }]),
        )?);
    }
    let mut access = Vec::new();
    if let Some(url) = &request.ocsp_url {
        access.push(AccessDescription {
            access_method: oid::AD_OCSP,
            access_location: uri(url)?,
        });
    }
    if let Some(url) = &request.ca_issuers_url {
        access.push(AccessDescription {
            access_method: oid::AD_CA_ISSUERS,
            access_location: uri(url)?,
        });
    }
    if !access.is_empty() {
        extensions.push(extension(
            oid::AIA,
            false,
            &AuthorityInfoAccessSyntax(access),
        )?);
    }
    if let Some(constraints) = &request.name_constraints {
        if !matches!(request.kind, CertKind::SubordinateCa { .. }) {
            return Err(PkiError::Extension(
                "only a subordinate CA carries name constraints".to_owned(),
            ));
        }
        check_name_constraints(constraints)?;
        // RFC 5280 §4.2.1.10: conforming CAs MUST mark it critical.
        extensions.push(extension(oid::NAME_CONSTRAINTS, true, constraints)?);
    }
    if let Some((custom_oid, value)) = &request.custom_extension {
        if MANAGED.contains(custom_oid) {
            return Err(PkiError::Extension(format!(
                "the custom extension cannot use {custom_oid}, which the profile sets itself"
            )));
        }
        let utf8 = Utf8StringRef::new(value).map_err(crate::encoding)?;
        extensions.push(extension(*custom_oid, false, &utf8)?);
    }

    let subject_is_issuer = matches!(request.kind, CertKind::Root);
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(request.serial.as_bytes()).map_err(crate::encoding)?,
        signature: signature.clone(),
        issuer: if subject_is_issuer {
            request.subject.clone()
        } else {
            issuer.name.clone()
        },
        validity: Validity {
            not_before: crate::time::to_x509(request.not_before)?,
            not_after: crate::time::to_x509(request.not_after)?,
        },
        subject: request.subject.clone(),
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    lint(&tbs, issuer, request, subject_key_algorithm)?;
    let der = tbs.to_der().map_err(crate::encoding)?;
    let digest = Sha256::digest(&der).into();
    Ok(LintedTbs {
        tbs,
        der,
        digest,
        signature_algorithm: signature,
        issuer_key_algorithm: issuer.key_algorithm,
        hash: request.hash,
    })
}

fn lint_error(rule: &str) -> PkiError {
    PkiError::Lint(rule.to_owned())
}

/// The pre-issuance lint: every rule of the profile, checked on the TBS
/// itself rather than on the request that produced it.
fn lint(
    tbs: &TbsCertificate,
    issuer: &IssuerInfo,
    request: &TbsRequest,
    subject_key: KeyAlgorithm,
) -> PkiResult<()> {
    // RFC 5280 §4.1.2.2: positive, non-zero, at most 20 octets.
    let serial = tbs.serial_number.as_bytes();
    if serial.is_empty()
        || serial.len() > 20
        || serial.first().is_some_and(|b| b & 0x80 != 0)
        || serial.iter().all(|b| *b == 0)
    {
        return Err(lint_error(
            "serial must be positive, non-zero and at most 20 octets",
        ));
    }
    // RFC 5280 §4.1.2.5.
    let nb = crate::time::from_x509(&tbs.validity.not_before);
    let na = crate::time::from_x509(&tbs.validity.not_after);
    if nb >= na {
        return Err(lint_error("notBefore must precede notAfter"));
    }
    if !matches!(request.kind, CertKind::Root) && (na > issuer.not_after || nb < issuer.not_before)
    {
        return Err(PkiError::Validity(
            "the validity must lie within the issuing CA's validity".to_owned(),
        ));
    }
    if tbs.subject.0.is_empty() && request.alt_names.is_empty() && request.raw_alt_names.is_empty()
    {
        return Err(lint_error(
            "a certificate needs a subject or an alternative name",
        ));
    }
    if subject_key.rsa_bits().is_some_and(|bits| bits < 2048) {
        return Err(lint_error("RSA keys must be at least 2048 bits"));
    }
    request.hash.check_fits(issuer.key_algorithm)?;
    // RFC 5280 §4.2: each extension at most once.
    let extensions = tbs.extensions.as_deref().unwrap_or_default();
    let mut seen = BTreeSet::new();
    for ext in extensions {
        if !seen.insert(ext.extn_id.to_string()) {
            return Err(lint_error("an extension appears twice"));
        }
    }
    let usage = request.key_usage;
    if usage.is_empty() {
        return Err(lint_error("keyUsage must assert at least one bit"));
    }
    match request.kind {
        CertKind::Root | CertKind::SubordinateCa { .. } => {
            if !usage.contains(KeyUsages::KeyCertSign) {
                return Err(PkiError::Extension(
                    "a CA certificate needs keyCertSign".to_owned(),
                ));
            }
        }
        CertKind::EndEntity => {
            if usage.contains(KeyUsages::KeyCertSign) || usage.contains(KeyUsages::CRLSign) {
                return Err(PkiError::Extension(
                    "keyCertSign and cRLSign are only for CA certificates".to_owned(),
                ));
            }
        }
    }
    usage.check_fits(subject_key)?;
    if let CertKind::SubordinateCa { path_length } = request.kind {
        if path_length > 6 {
            return Err(lint_error("path length must be 0-6"));
        }
        // RFC 5280 §4.2.1.9: the issuer's constraint bounds the path below it.
        if let Some(limit) = issuer.path_length {
            if limit == 0 || path_length > limit - 1 {
                return Err(PkiError::Extension(format!(
                    "the issuing CA's path length ({limit}) does not allow a subordinate CA with path length {path_length}"
                )));
            }
        }
    }
    let eku = request.extended_key_usage;
    if eku.time_stamping && eku.oids().len() > 1 {
        return Err(PkiError::Extension(
            "timeStamping must be the only extended key usage (RFC 3161)".to_owned(),
        ));
    }
    if !matches!(request.kind, CertKind::EndEntity) && !eku.oids().is_empty() {
        return Err(PkiError::Extension(
            "CA certificates carry no extended key usage here".to_owned(),
        ));
    }
    Ok(())
}

/// Subtrees a name-constraints extension may hold at most.
pub const MAX_NAME_SUBTREES: usize = 20;

/// Checks name constraints against RFC 5280 §4.2.1.10 and what the profile
/// supports: at least one subtree, at most [`MAX_NAME_SUBTREES`], minimum 0
/// and no maximum, and bases that are DNS names, IP ranges (address and
/// mask), email addresses or domains, URIs' hosts, or directory names.
pub fn check_name_constraints(constraints: &NameConstraints) -> PkiResult<()> {
    let subtrees: Vec<&GeneralSubtree> = constraints
        .permitted_subtrees
        .iter()
        .chain(constraints.excluded_subtrees.iter())
        .flatten()
        .collect();
    let invalid = |msg: &str| PkiError::Extension(format!("name constraints: {msg}"));
    if constraints
        .permitted_subtrees
        .as_ref()
        .is_some_and(Vec::is_empty)
        || constraints
            .excluded_subtrees
            .as_ref()
            .is_some_and(Vec::is_empty)
        || subtrees.is_empty()
    {
        return Err(invalid("no subtree, or an empty list of them"));
    }
    if subtrees.len() > MAX_NAME_SUBTREES {
        return Err(invalid(&format!("more than {MAX_NAME_SUBTREES} subtrees")));
    }
    for subtree in subtrees {
        if subtree.minimum != 0 || subtree.maximum.is_some() {
            return Err(invalid("minimum must be 0 and maximum absent"));
        }
        match &subtree.base {
            GeneralName::DnsName(name) => {
                let name = name.as_str().strip_prefix('.').unwrap_or(name.as_str());
                if !name.is_empty() && !crate::san::is_dns_name(name) {
                    return Err(invalid(&format!("{name:?} is not a DNS name")));
                }
            }
            GeneralName::IpAddress(range) => {
                if !matches!(range.as_bytes().len(), 8 | 32) {
                    return Err(invalid(
                        "an IP range is an address and a mask (8 or 32 bytes)",
                    ));
                }
            }
            GeneralName::Rfc822Name(_)
            | GeneralName::UniformResourceIdentifier(_)
            | GeneralName::DirectoryName(_) => {}
            _ => return Err(invalid("a subtree of an unsupported name type")),
        }
    }
    Ok(())
}

/// The DNS names permitted by name constraints (empty when none are).
pub fn permitted_dns_names(constraints: &NameConstraints) -> Vec<String> {
    constraints
        .permitted_subtrees
        .iter()
        .flatten()
        .filter_map(|subtree| match &subtree.base {
            GeneralName::DnsName(name) => Some(crate::san::common_name_for_policy(name.as_str())),
            _ => None,
        })
        .collect()
}

/// Signs certificates: implemented by `openccm-custody` (software keys, HSMs).
pub trait Signer: Send + Sync {
    /// The key's algorithm.
    fn key_algorithm(&self) -> KeyAlgorithm;
    /// The public key (SubjectPublicKeyInfo DER).
    fn public_key_der(&self) -> &[u8];
    /// Signs `message` with `hash` (SM2: over `Z_A` with the default id).
    fn sign(&self, hash: HashAlgorithm, message: &[u8]) -> PkiResult<Vec<u8>>;
}

/// A TBS certificate that passed the lint. Only [`build`] makes one; only
/// [`LintedTbs::sign`] consumes it.
#[derive(Debug)]
pub struct LintedTbs {
    tbs: TbsCertificate,
    der: Vec<u8>,
    /// SHA-256 of `der`, computed once: the intent records it, the signed
    /// certificate carries it.
    digest: [u8; 32],
    signature_algorithm: AlgorithmIdentifierOwned,
    issuer_key_algorithm: KeyAlgorithm,
    hash: HashAlgorithm,
}

/// A signed certificate.
#[derive(Debug, Clone)]
pub struct SignedCertificate {
    /// DER.
    pub der: Vec<u8>,
    /// SHA-256 of the TBS that was linted and signed.
    pub tbs_digest: [u8; 32],
}

impl LintedTbs {
    /// The DER of the linted TBS.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of the TBS DER (recorded with the issuance intent).
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// Signs with `signer` ([`sign_checked`]) and checks that the
    /// certificate carries exactly the linted TBS. Fails if the signer's key
    /// is not the issuer's the TBS was built for.
    pub fn sign(self, signer: &dyn Signer) -> PkiResult<SignedCertificate> {
        if signer.key_algorithm() != self.issuer_key_algorithm {
            return Err(PkiError::Signing(
                "the signer is not the issuing key".to_owned(),
            ));
        }
        let signature = sign_checked(signer, &self.signature_algorithm, self.hash, &self.der)?;
        let digest = self.digest;
        let certificate = Certificate {
            tbs_certificate: self.tbs,
            signature_algorithm: self.signature_algorithm,
            signature: BitString::from_bytes(&signature).map_err(crate::encoding)?,
        };
        let der = certificate.to_der().map_err(crate::encoding)?;
        // The certificate is SEQUENCE { tbs, algorithm, signature }: the bytes
        // right after the outer header must be the linted TBS, byte for byte.
        let mut reader = der::SliceReader::new(&der).map_err(crate::encoding)?;
        let header =
            <der::Header as der::Decode<'_>>::decode(&mut reader).map_err(crate::encoding)?;
        let start = usize::try_from(header.encoded_len().map_err(crate::encoding)?)
            .map_err(crate::encoding)?;
        if der.get(start..start + self.der.len()) != Some(self.der.as_slice()) {
            return Err(PkiError::Signing(
                "the signed TBS differs from the linted one".to_owned(),
            ));
        }
        Ok(SignedCertificate {
            der,
            tbs_digest: digest,
        })
    }
}

/// Signs `message` (a TBS) with `signer` for `algorithm` and, for RSA,
/// verifies the signature with the signer's public key before it leaves.
///
/// Why RSA only: a faulty RSA-CRT signature leaks a factor of the modulus
/// (Boneh-DeMillo-Lipton), so a signature must never leave unchecked, and
/// checking costs a fifteenth of signing. An ECDSA or SM2 fault yields an
/// invalid signature that relying parties refuse, with no such leak, and
/// checking would cost three times the signature.
///
/// Fails if signing fails or an RSA signature does not verify.
pub fn sign_checked(
    signer: &dyn Signer,
    algorithm: &AlgorithmIdentifierOwned,
    hash: HashAlgorithm,
    message: &[u8],
) -> PkiResult<Vec<u8>> {
    let signature = signer.sign(hash, message)?;
    if signer.key_algorithm().is_rsa() {
        crate::verify::verify(signer.public_key_der(), algorithm.oid, message, &signature)?;
    }
    Ok(signature)
}

#[cfg(test)]
mod serial_tests {
    use super::Serial;

    #[test]
    fn issued_serials_lead_with_the_time_and_keep_80_random_bits() {
        let t = 1_764_115_200_000; // 2025-11-26
        let a = Serial::from_time_and_random(t, [0xff; 10]);
        assert_eq!(&a.as_bytes()[..6], &t.to_be_bytes()[2..]);
        assert_eq!(&a.as_bytes()[6..], &[0xff; 10]);
        assert!(a.as_bytes()[0] != 0 && a.as_bytes()[0] < 0x80);
        // Later issuances sort after earlier ones, whatever their random part.
        let b = Serial::from_time_and_random(t + 1, [0; 10]);
        assert!(b.to_hex() > a.to_hex());
        // A clock before 2004 still gives a positive 16-octet serial.
        let early = Serial::from_time_and_random(0, [7; 10]);
        assert_eq!(early.as_bytes()[0], 0x01);
    }
}
