//! PKCS#10 certificate signing requests: bounded parsing, strict DER, a
//! verified self-signature, and what the request asks for.

use der::{Decode as _, Encode as _};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{KeyUsage, NameConstraints, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::request::CertReq;

use crate::algorithm::{parse_signature_oid, HashAlgorithm, KeyAlgorithm, SignatureFamily};
use crate::name::DistinguishedName;
use crate::profile::{oid, KeyUsageSet};
use crate::{PkiError, PkiResult};

/// The largest CSR accepted (PEM text).
pub const MAX_CSR_BYTES: usize = 64 * 1024;

/// extensionRequest (PKCS#9).
const EXTENSION_REQUEST: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.14");

/// What a CSR asks for. [`parse_pem`] and [`UnverifiedCsr::verify`] return
/// one only once its self-signature is verified; [`UnverifiedCsr::request`]
/// lends one before (not `Clone`, so that a lent one cannot pass for a
/// verified one).
#[derive(Debug)]
pub struct ParsedCsr {
    /// The DER.
    pub der: Vec<u8>,
    /// The subject, exactly as requested.
    pub subject: Name,
    /// The subject's known attributes.
    pub distinguished_name: DistinguishedName,
    /// The public key (SubjectPublicKeyInfo DER).
    pub public_key: Vec<u8>,
    /// The key's algorithm.
    pub key_algorithm: KeyAlgorithm,
    /// The self-signature's family.
    pub signature_family: SignatureFamily,
    /// The self-signature's hash.
    pub signature_hash: HashAlgorithm,
    /// Requested key usages, if the CSR asks for any.
    pub key_usage: Option<KeyUsageSet>,
    /// Requested alternative names (validated; at most
    /// [`crate::san::MAX_ENTRIES`], the cap CreateCertificate applies).
    pub alt_names: Vec<GeneralName>,
    /// Requested name constraints (validated), for a subordinate CA.
    pub name_constraints: Option<NameConstraints>,
}

fn csr_error(msg: impl Into<String>) -> PkiError {
    PkiError::Csr(msg.into())
}

/// A CSR whose structure is parsed but whose self-signature is not checked
/// yet. What it asks for can be read (to authorise a request and build the
/// certificate it wants) but only [`UnverifiedCsr::verify`] yields a
/// [`ParsedCsr`]: issuance checks the signature on the signing thread, right
/// before it signs, which saves a thread hand-off per issuance.
#[derive(Debug)]
pub struct UnverifiedCsr {
    request: ParsedCsr,
    signed: Vec<u8>,
    algorithm: const_oid::ObjectIdentifier,
    signature: Vec<u8>,
}

impl UnverifiedCsr {
    /// What the CSR asks for, not yet proven to come from the key's holder.
    pub fn request(&self) -> &ParsedCsr {
        &self.request
    }

    /// Checks the self-signature (proof of possession of the key).
    pub fn verify(self) -> PkiResult<ParsedCsr> {
        crate::verify::verify_with_sm2_ids(
            &self.request.public_key,
            self.algorithm,
            &self.signed,
            &self.signature,
            &[crate::sm2::DEFAULT_USER_ID, b""],
        )
        .map_err(|_| csr_error("the CSR's signature does not verify"))?;
        Ok(self.request)
    }
}

/// Parses a PEM CSR (`\n` or `\r\n` line breaks) and verifies its signature.
///
/// Fails when the text is too large, not exactly one `CERTIFICATE REQUEST`
/// block, not DER, of an unsupported algorithm, or its signature does not verify.
pub fn parse_pem(text: &str) -> PkiResult<ParsedCsr> {
    parse_pem_unverified(text)?.verify()
}

/// Parses a PEM CSR like [`parse_pem`], leaving its signature to check.
pub fn parse_pem_unverified(text: &str) -> PkiResult<UnverifiedCsr> {
    if text.len() > MAX_CSR_BYTES {
        return Err(csr_error(format!(
            "the CSR is larger than {MAX_CSR_BYTES} bytes"
        )));
    }
    let blocks = crate::pem::decode_all(text).map_err(|e| csr_error(e.to_string()))?;
    match blocks.as_slice() {
        [block]
            if block.label == "CERTIFICATE REQUEST" || block.label == "NEW CERTIFICATE REQUEST" =>
        {
            parse_der_unverified(&block.der)
        }
        [] => Err(csr_error("no PEM block")),
        [_] => Err(csr_error("the PEM block is not a CERTIFICATE REQUEST")),
        _ => Err(csr_error("more than one PEM block")),
    }
}

/// Parses a DER CSR and verifies its signature.
pub fn parse_der(der: &[u8]) -> PkiResult<ParsedCsr> {
    parse_der_unverified(der)?.verify()
}

/// Parses a DER CSR, leaving its signature to check.
pub fn parse_der_unverified(der: &[u8]) -> PkiResult<UnverifiedCsr> {
    let req =
        CertReq::from_der(der).map_err(|e| csr_error(format!("not a PKCS#10 request: {e}")))?;
    // Strict DER: the signature covers the encoding, so only canonical input
    // can be re-encoded for verification.
    if req.to_der().map_err(crate::encoding)? != der {
        return Err(csr_error("not DER-encoded"));
    }
    let info_der = req.info.to_der().map_err(crate::encoding)?;
    let public_key = req.info.public_key.to_der().map_err(crate::encoding)?;
    let spki =
        SubjectPublicKeyInfoRef::from_der(&public_key).map_err(|e| csr_error(e.to_string()))?;
    let key_algorithm = KeyAlgorithm::of_spki(&spki).map_err(|e| csr_error(e.to_string()))?;
    let (signature_family, signature_hash) =
        parse_signature_oid(req.algorithm.oid).ok_or_else(|| {
            csr_error(format!(
                "unsupported signature algorithm {}",
                req.algorithm.oid
            ))
        })?;
    let signature = req
        .signature
        .as_bytes()
        .ok_or_else(|| csr_error("malformed signature"))?;
    let signature = signature.to_vec();

    let mut key_usage = None;
    let mut alt_names = Vec::new();
    let mut name_constraints = None;
    for attribute in req.info.attributes.iter() {
        if attribute.oid != EXTENSION_REQUEST {
            continue;
        }
        for value in attribute.values.iter() {
            let extensions: Vec<x509_cert::ext::Extension> = value
                .decode_as()
                .map_err(|_| csr_error("malformed extensionRequest"))?;
            for ext in extensions {
                if ext.extn_id == oid::KEY_USAGE {
                    let ku = KeyUsage::from_der(ext.extn_value.as_bytes())
                        .map_err(|_| csr_error("malformed keyUsage request"))?;
                    key_usage = Some(KeyUsageSet(ku.0));
                } else if ext.extn_id == oid::SAN {
                    let san = SubjectAltName::from_der(ext.extn_value.as_bytes())
                        .map_err(|_| csr_error("malformed subjectAltName request"))?;
                    for name in san.0 {
                        if alt_names.len() == crate::san::MAX_ENTRIES {
                            return Err(csr_error(format!(
                                "the CSR requests more than {} alternative names",
                                crate::san::MAX_ENTRIES
                            )));
                        }
                        check_requested_name(&name)?;
                        alt_names.push(name);
                    }
                } else if ext.extn_id == crate::profile::oid::NAME_CONSTRAINTS {
                    if name_constraints.is_some() {
                        return Err(csr_error("the CSR requests nameConstraints twice"));
                    }
                    let constraints = NameConstraints::from_der(ext.extn_value.as_bytes())
                        .map_err(|_| csr_error("malformed nameConstraints request"))?;
                    crate::profile::check_name_constraints(&constraints)
                        .map_err(|e| csr_error(e.to_string()))?;
                    name_constraints = Some(constraints);
                }
            }
        }
    }
    let distinguished_name =
        DistinguishedName::from_name(&req.info.subject).map_err(|e| csr_error(e.to_string()))?;
    Ok(UnverifiedCsr {
        request: ParsedCsr {
            der: der.to_vec(),
            subject: req.info.subject,
            distinguished_name,
            public_key,
            key_algorithm,
            signature_family,
            signature_hash,
            key_usage,
            alt_names,
            name_constraints,
        },
        signed: info_der,
        algorithm: req.algorithm.oid,
        signature,
    })
}

fn check_requested_name(name: &GeneralName) -> PkiResult<()> {
    match name {
        GeneralName::DnsName(d) => {
            if crate::san::is_dns_name(d.as_str()) {
                Ok(())
            } else {
                Err(PkiError::DomainName(format!(
                    "the CSR requests an invalid DNS name {:?}",
                    d.as_str()
                )))
            }
        }
        GeneralName::IpAddress(ip) => match ip.as_bytes().len() {
            4 | 16 => Ok(()),
            _ => Err(PkiError::IpAddress(
                "the CSR requests a malformed IP address".to_owned(),
            )),
        },
        GeneralName::Rfc822Name(_) | GeneralName::UniformResourceIdentifier(_) => Ok(()),
        _ => Err(PkiError::AlternativeName(
            "the CSR requests an alternative name of an unsupported type".to_owned(),
        )),
    }
}

/// Builds a CSR for `subject` signed with `signer` (pending subordinate CAs export one).
pub fn build(
    subject: &Name,
    signer: &dyn crate::Signer,
    hash: HashAlgorithm,
) -> PkiResult<Vec<u8>> {
    build_with_alt_names(subject, &[], signer, hash)
}

/// Builds a CSR for `subject` asking for `alt_names` (an extensionRequest
/// with a subjectAltName, when there are any), signed with `signer`.
pub fn build_with_alt_names(
    subject: &Name,
    alt_names: &[crate::san::AltName],
    signer: &dyn crate::Signer,
    hash: HashAlgorithm,
) -> PkiResult<Vec<u8>> {
    use der::asn1::{Any, BitString, OctetString, SetOfVec};
    use x509_cert::attr::Attribute;
    use x509_cert::ext::Extension;
    use x509_cert::request::{CertReqInfo, Version};
    let mut attributes = SetOfVec::new();
    if !alt_names.is_empty() {
        let names = alt_names
            .iter()
            .map(crate::san::AltName::to_general_name)
            .collect::<PkiResult<Vec<_>>>()?;
        let san = SubjectAltName(names).to_der().map_err(crate::encoding)?;
        let extensions = vec![Extension {
            extn_id: oid::SAN,
            critical: false,
            extn_value: OctetString::new(san).map_err(crate::encoding)?,
        }];
        let value = Any::encode_from(&extensions).map_err(crate::encoding)?;
        let mut values = SetOfVec::new();
        values.insert(value).map_err(crate::encoding)?;
        attributes
            .insert(Attribute {
                oid: EXTENSION_REQUEST,
                values,
            })
            .map_err(crate::encoding)?;
    }
    let info = CertReqInfo {
        version: Version::V1,
        subject: subject.clone(),
        public_key: spki::SubjectPublicKeyInfoOwned::from_der(signer.public_key_der())
            .map_err(|e| PkiError::Key(e.to_string()))?,
        attributes,
    };
    let info_der = info.to_der().map_err(crate::encoding)?;
    let algorithm = crate::algorithm::signature_algorithm_identifier(signer.key_algorithm(), hash)?;
    let signature = signer.sign(hash, &info_der)?;
    let req = CertReq {
        info,
        algorithm,
        signature: BitString::from_bytes(&signature).map_err(crate::encoding)?,
    };
    req.to_der().map_err(crate::encoding)
}
