//! The pre-issuance lint: the profile's rules, checked on the DER that is
//! about to be signed.
//!
//! Why on the DER and not on the request: the request is what the builder
//! was asked for, the DER is what relying parties will read. A builder bug
//! (an extension marked wrongly, a usage dropped, a name swapped) shows only
//! in the DER. So [`lint`] decodes the bytes, checks every rule against what
//! it decoded, and hands back a [`LintedTbs`] holding those very bytes; the
//! only other input is the [`Intent`]: which issuer, which kind of
//! certificate, which hash.
//!
//! Each rule is one function below, in the order they run, with its own test
//! in `tests/profile/lint.rs`. Request mistakes a caller can make surface here with
//! the error a caller can act on (`Extension`, `Validity`, ...); what only a
//! builder bug can produce is a `Lint` error (an internal error on the wire).

use std::collections::BTreeSet;

use const_oid::ObjectIdentifier;
use der::{Decode, Encode as _};
use sha2::{Digest as _, Sha256};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints,
    ExtendedKeyUsage, KeyUsage, KeyUsages, NameConstraints, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;

use super::{key_identifier, oid, CertKind, IssuerInfo, KeyUsageSet, LintedTbs};
use crate::algorithm::{signature_algorithm_identifier, HashAlgorithm, KeyAlgorithm};
use crate::{PkiError, PkiResult};

/// What the TBS is meant to be, besides its own bytes.
#[derive(Debug, Clone, Copy)]
pub struct Intent<'a> {
    /// The issuing CA (for a root: the root itself).
    pub issuer: &'a IssuerInfo,
    /// Root, subordinate CA or end entity.
    pub kind: CertKind,
    /// The hash the issuer signs with.
    pub hash: HashAlgorithm,
}

/// The deepest pathLenConstraint the API allows.
pub const MAX_PATH_LENGTH: u8 = 6;

/// Lints `der`, a DER `TBSCertificate`, against every rule of the profile.
///
/// Fails with the first rule broken.
pub fn lint(der: Vec<u8>, intent: &Intent<'_>) -> PkiResult<LintedTbs> {
    let tbs = decodes_as_der(&der)?;
    let spki_der = tbs
        .subject_public_key_info
        .to_der()
        .map_err(crate::encoding)?;
    let subject_key = subject_key_is_supported(&spki_der)?;
    signature_algorithm_fits(&tbs, intent)?;
    let extensions = extensions_are_unique_and_decode(&tbs)?;
    name_constraints_fit(&extensions, intent)?;
    version_is_v3(&tbs)?;
    serial_is_positive_and_short(&tbs)?;
    validity_is_ordered_and_nested(&tbs, intent)?;
    issuer_name_links(&tbs, intent)?;
    subject_or_alternative_name(&tbs, &extensions)?;
    key_usage_fits(&extensions, intent.kind, subject_key)?;
    basic_constraints_match(&extensions, intent)?;
    extended_key_usage_fits(&extensions, intent.kind)?;
    key_identifiers_link(&extensions, &spki_der, intent)?;
    other_extensions_are_not_critical(&extensions)?;

    let signature_algorithm = tbs.signature.clone();
    let digest = Sha256::digest(&der).into();
    Ok(LintedTbs {
        tbs,
        der,
        digest,
        signature_algorithm,
        issuer_key_algorithm: intent.issuer.key_algorithm,
        hash: intent.hash,
    })
}

fn lint_error(rule: impl Into<String>) -> PkiError {
    PkiError::Lint(rule.into())
}

/// The bytes are one `TBSCertificate`, with nothing after it. The decoder
/// refuses non-canonical encodings of what it reads; that the bytes are
/// exactly DER is checked once more where it matters, at signing
/// ([`LintedTbs::sign`] finds these very bytes inside the certificate it
/// encodes), rather than by encoding them a second time here.
fn decodes_as_der(der: &[u8]) -> PkiResult<TbsCertificate> {
    TbsCertificate::from_der(der).map_err(|e| lint_error(format!("the TBS does not decode: {e}")))
}

/// The subject's key is one the API issues for: RSA 2048/3072/4096, P-256,
/// P-384 or SM2 ([`KeyAlgorithm::of_spki`]; so no RSA key under 2048 bits).
fn subject_key_is_supported(spki_der: &[u8]) -> PkiResult<KeyAlgorithm> {
    let spki =
        SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|e| PkiError::Key(e.to_string()))?;
    KeyAlgorithm::of_spki(&spki)
}

/// The hash fits the issuer's key (SM3 with SM2 only, and the reverse), and
/// the TBS's signature field names exactly the issuer's key with that hash
/// (RFC 5280 §4.1.2.3; the certificate's outer algorithm is copied from it).
fn signature_algorithm_fits(tbs: &TbsCertificate, intent: &Intent<'_>) -> PkiResult<()> {
    intent.hash.check_fits(intent.issuer.key_algorithm)?;
    let expected = signature_algorithm_identifier(intent.issuer.key_algorithm, intent.hash)?;
    if tbs.signature != expected {
        return Err(lint_error(
            "the signature algorithm is not the issuer's key with the chosen hash",
        ));
    }
    Ok(())
}

/// The extensions the profile manages, decoded; the rest as they are.
#[derive(Default)]
struct Extensions<'a> {
    basic_constraints: Option<(bool, BasicConstraints)>,
    key_usage: Option<(bool, KeyUsage)>,
    extended_key_usage: Option<(bool, ExtendedKeyUsage)>,
    subject_key_identifier: Option<SubjectKeyIdentifier>,
    authority_key_identifier: Option<AuthorityKeyIdentifier>,
    subject_alt_name: Option<(bool, SubjectAltName)>,
    name_constraints: Option<(bool, NameConstraints)>,
    crl_distribution_points: Option<(bool, CrlDistributionPoints)>,
    authority_info_access: Option<(bool, AuthorityInfoAccessSyntax)>,
    others: Vec<&'a Extension>,
}

fn decoded<'a, T: Decode<'a>>(ext: &'a Extension, name: &str) -> PkiResult<(bool, T)> {
    T::from_der(ext.extn_value.as_bytes())
        .map(|value| (ext.critical, value))
        .map_err(|e| lint_error(format!("the {name} extension does not decode: {e}")))
}

/// Each extension appears at most once (RFC 5280 §4.2), and each the
/// profile manages decodes as its type.
fn extensions_are_unique_and_decode(tbs: &TbsCertificate) -> PkiResult<Extensions<'_>> {
    let mut seen = BTreeSet::new();
    let mut found = Extensions::default();
    for ext in tbs.extensions.as_deref().unwrap_or_default() {
        if !seen.insert(ext.extn_id) {
            return Err(lint_error("an extension appears twice"));
        }
        match ext.extn_id {
            oid::BASIC_CONSTRAINTS => {
                found.basic_constraints = Some(decoded(ext, "basicConstraints")?);
            }
            oid::KEY_USAGE => found.key_usage = Some(decoded(ext, "keyUsage")?),
            oid::EKU => found.extended_key_usage = Some(decoded(ext, "extKeyUsage")?),
            oid::SKI => {
                found.subject_key_identifier = Some(decoded(ext, "subjectKeyIdentifier")?.1);
            }
            oid::AKI => {
                found.authority_key_identifier = Some(decoded(ext, "authorityKeyIdentifier")?.1);
            }
            oid::SAN => found.subject_alt_name = Some(decoded(ext, "subjectAltName")?),
            oid::NAME_CONSTRAINTS => {
                found.name_constraints = Some(decoded(ext, "nameConstraints")?);
            }
            oid::CRL_DP => {
                found.crl_distribution_points = Some(decoded(ext, "cRLDistributionPoints")?);
            }
            oid::AIA => {
                found.authority_info_access = Some(decoded(ext, "authorityInfoAccess")?);
            }
            _ => found.others.push(ext),
        }
    }
    Ok(found)
}

/// Only a subordinate CA carries name constraints; they are critical (RFC
/// 5280 §4.2.1.10: conforming CAs MUST mark it so) and within what the
/// profile supports ([`super::check_name_constraints`]).
fn name_constraints_fit(extensions: &Extensions<'_>, intent: &Intent<'_>) -> PkiResult<()> {
    let Some((critical, constraints)) = &extensions.name_constraints else {
        return Ok(());
    };
    if !matches!(intent.kind, CertKind::SubordinateCa { .. }) {
        return Err(PkiError::Extension(
            "only a subordinate CA carries name constraints".to_owned(),
        ));
    }
    super::check_name_constraints(constraints)?;
    if !critical {
        return Err(lint_error("nameConstraints must be critical"));
    }
    Ok(())
}

/// Version 3 (extensions need it, RFC 5280 §4.1.2.1), without the unique
/// identifiers conforming CAs must not generate (§4.1.2.8).
fn version_is_v3(tbs: &TbsCertificate) -> PkiResult<()> {
    if tbs.version != Version::V3 {
        return Err(lint_error("the version must be v3"));
    }
    if tbs.issuer_unique_id.is_some() || tbs.subject_unique_id.is_some() {
        return Err(lint_error("unique identifiers must be absent"));
    }
    Ok(())
}

/// The serial is positive, non-zero and at most 20 octets (RFC 5280
/// §4.1.2.2).
fn serial_is_positive_and_short(tbs: &TbsCertificate) -> PkiResult<()> {
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
    Ok(())
}

/// notBefore precedes notAfter (RFC 5280 §4.1.2.5), and a certificate the
/// issuer signs lies within the issuer's own validity.
fn validity_is_ordered_and_nested(tbs: &TbsCertificate, intent: &Intent<'_>) -> PkiResult<()> {
    let not_before = crate::time::from_x509(&tbs.validity.not_before);
    let not_after = crate::time::from_x509(&tbs.validity.not_after);
    if not_before >= not_after {
        return Err(lint_error("notBefore must precede notAfter"));
    }
    let issuer = intent.issuer;
    if !matches!(intent.kind, CertKind::Root)
        && (not_after > issuer.not_after || not_before < issuer.not_before)
    {
        return Err(PkiError::Validity(
            "the validity must lie within the issuing CA's validity".to_owned(),
        ));
    }
    Ok(())
}

/// The issuer field is the issuer's subject byte for byte (RFC 5280
/// §4.1.2.4, which path building matches on); a root's is its own subject.
fn issuer_name_links(tbs: &TbsCertificate, intent: &Intent<'_>) -> PkiResult<()> {
    let expected = match intent.kind {
        CertKind::Root => &tbs.subject,
        _ => &intent.issuer.name,
    };
    if &tbs.issuer != expected {
        return Err(lint_error(
            "the issuer name is not the issuing CA's subject",
        ));
    }
    Ok(())
}

/// A certificate names its subject in the subject field or in alternative
/// names; the subjectAltName extension is critical exactly when the
/// subject is empty (RFC 5280 §4.2.1.6), and holds at least one name.
fn subject_or_alternative_name(tbs: &TbsCertificate, extensions: &Extensions<'_>) -> PkiResult<()> {
    let subject_empty = tbs.subject.0.is_empty();
    match &extensions.subject_alt_name {
        None if subject_empty => Err(lint_error(
            "a certificate needs a subject or an alternative name",
        )),
        Some((_, names)) if names.0.is_empty() => {
            Err(lint_error("subjectAltName must hold at least one name"))
        }
        Some((critical, _)) if *critical != subject_empty => Err(lint_error(
            "subjectAltName must be critical exactly when the subject is empty",
        )),
        None | Some(_) => Ok(()),
    }
}

/// keyUsage is present, critical and asserts at least one bit (RFC 5280
/// §4.2.1.3); a CA's includes keyCertSign, an end entity's neither
/// keyCertSign nor cRLSign; and the usages fit the subject's key
/// ([`KeyUsageSet::check_fits`]).
fn key_usage_fits(
    extensions: &Extensions<'_>,
    kind: CertKind,
    subject_key: KeyAlgorithm,
) -> PkiResult<()> {
    let Some((critical, usage)) = &extensions.key_usage else {
        return Err(lint_error("keyUsage must be present"));
    };
    let usage = KeyUsageSet(usage.0);
    if usage.is_empty() {
        return Err(lint_error("keyUsage must assert at least one bit"));
    }
    match kind {
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
    if !critical {
        return Err(lint_error("keyUsage must be critical"));
    }
    Ok(())
}

/// basicConstraints is present and says what the certificate is: cA true
/// and critical for CAs (RFC 5280 §4.2.1.9); a root without a path length
/// limit; a subordinate with the requested one, at most
/// [`MAX_PATH_LENGTH`] and within what its issuer's constraint leaves; an
/// end entity cA false without one.
fn basic_constraints_match(extensions: &Extensions<'_>, intent: &Intent<'_>) -> PkiResult<()> {
    let Some((critical, basic)) = &extensions.basic_constraints else {
        return Err(lint_error("basicConstraints must be present"));
    };
    let is_ca = !matches!(intent.kind, CertKind::EndEntity);
    if basic.ca != is_ca {
        return Err(lint_error("basicConstraints' cA does not match the kind"));
    }
    if is_ca && !critical {
        return Err(lint_error("basicConstraints must be critical in a CA"));
    }
    let expected = match intent.kind {
        CertKind::SubordinateCa { path_length } => Some(path_length),
        CertKind::Root | CertKind::EndEntity => None,
    };
    if basic.path_len_constraint != expected {
        return Err(lint_error(
            "basicConstraints' pathLenConstraint does not match the kind",
        ));
    }
    if let CertKind::SubordinateCa { path_length } = intent.kind {
        if path_length > MAX_PATH_LENGTH {
            return Err(lint_error("path length must be 0-6"));
        }
        // RFC 5280 §4.2.1.9: the issuer's constraint bounds the path below it.
        if let Some(limit) = intent.issuer.path_length {
            if limit == 0 || path_length > limit - 1 {
                return Err(PkiError::Extension(format!(
                    "the issuing CA's path length ({limit}) does not allow a subordinate CA with path length {path_length}"
                )));
            }
        }
    }
    Ok(())
}

/// Only end entities carry extKeyUsage here, with at least one purpose; a
/// time-stamping certificate has that purpose alone and marks it critical
/// (RFC 3161 §2.3), and no other marks it critical.
fn extended_key_usage_fits(extensions: &Extensions<'_>, kind: CertKind) -> PkiResult<()> {
    let Some((critical, usages)) = &extensions.extended_key_usage else {
        return Ok(());
    };
    let time_stamping = usages.0.contains(&oid::KP_TIME_STAMPING);
    if time_stamping && usages.0.len() > 1 {
        return Err(PkiError::Extension(
            "timeStamping must be the only extended key usage (RFC 3161)".to_owned(),
        ));
    }
    if !matches!(kind, CertKind::EndEntity) {
        return Err(PkiError::Extension(
            "CA certificates carry no extended key usage here".to_owned(),
        ));
    }
    if usages.0.is_empty() {
        return Err(lint_error("extKeyUsage must hold at least one purpose"));
    }
    if *critical != time_stamping {
        return Err(lint_error(
            "extKeyUsage must be critical exactly for a time-stamping certificate",
        ));
    }
    Ok(())
}

/// The subject key identifier is the subject key's (RFC 7093 method 1, as
/// [`key_identifier`] computes it) and the authority key identifier is the
/// issuer's, so chains link by key (RFC 5280 §4.2.1.1, §4.2.1.2); both
/// non-critical.
fn key_identifiers_link(
    extensions: &Extensions<'_>,
    spki_der: &[u8],
    intent: &Intent<'_>,
) -> PkiResult<()> {
    let ski = extensions
        .subject_key_identifier
        .as_ref()
        .ok_or_else(|| lint_error("subjectKeyIdentifier must be present"))?;
    if ski.0.as_bytes() != key_identifier(spki_der)?.as_slice() {
        return Err(lint_error(
            "subjectKeyIdentifier is not the subject key's identifier",
        ));
    }
    let aki = extensions
        .authority_key_identifier
        .as_ref()
        .ok_or_else(|| lint_error("authorityKeyIdentifier must be present"))?;
    let issuer_id = aki
        .key_identifier
        .as_ref()
        .map(der::asn1::OctetString::as_bytes);
    if issuer_id != Some(intent.issuer.key_identifier.as_slice())
        || aki.authority_cert_issuer.is_some()
        || aki.authority_cert_serial_number.is_some()
    {
        return Err(lint_error(
            "authorityKeyIdentifier must be the issuer's key identifier alone",
        ));
    }
    Ok(())
}

/// What is left is non-critical: the CRL distribution points and authority
/// information access (RFC 5280 §4.2.2.1 says AIA MUST be), with at least
/// one entry each, and a custom extension (a relying party that does not
/// know it must still accept the certificate).
fn other_extensions_are_not_critical(extensions: &Extensions<'_>) -> PkiResult<()> {
    if let Some((critical, points)) = &extensions.crl_distribution_points {
        let named = |point: &DistributionPoint| point.distribution_point.is_some();
        if *critical || points.0.is_empty() || !points.0.iter().all(named) {
            return Err(lint_error(
                "cRLDistributionPoints must be non-critical and name its points",
            ));
        }
    }
    if let Some((critical, access)) = &extensions.authority_info_access {
        if *critical || access.0.is_empty() {
            return Err(lint_error(
                "authorityInfoAccess must be non-critical and not empty",
            ));
        }
    }
    let managed: &[ObjectIdentifier] = &super::MANAGED;
    if let Some(ext) = extensions
        .others
        .iter()
        .find(|ext| ext.critical || managed.contains(&ext.extn_id))
    {
        return Err(lint_error(format!(
            "the extension {} must be non-critical",
            ext.extn_id
        )));
    }
    Ok(())
}
