//! Building: a [`TbsRequest`] becomes the DER of a `TBSCertificate`, which
//! goes straight to the lint.

use der::asn1::{Ia5String, OctetString, Utf8StringRef};
use der::{Decode as _, Encode as _};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

use super::{extension, key_identifier, oid, CertKind, IssuerInfo, LintedTbs, TbsRequest, MANAGED};
use crate::algorithm::signature_algorithm_identifier;
use crate::san::AltName;
use crate::{PkiError, PkiResult};

fn uri(text: &str) -> PkiResult<GeneralName> {
    Ok(GeneralName::UniformResourceIdentifier(
        Ia5String::new(text).map_err(crate::encoding)?,
    ))
}

/// Builds the TBS certificate for `request` under `issuer` and lints it.
///
/// For a root, `issuer` describes the root itself. Building checks only
/// what it must to encode the request; the rules of the profile are
/// [`super::lint`]'s, applied to the DER built here.
pub fn build(issuer: &IssuerInfo, request: &TbsRequest) -> PkiResult<LintedTbs> {
    let spki = SubjectPublicKeyInfoOwned::from_der(&request.subject_public_key)
        .map_err(|e| PkiError::Key(e.to_string()))?;
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
        super::check_name_constraints(constraints)?;
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
    let der = tbs.to_der().map_err(crate::encoding)?;
    super::lint::lint(
        der,
        &super::lint::Intent {
            issuer,
            kind: request.kind,
            hash: request.hash,
        },
    )
}
