//! Certificates: parsing (bounded, strict DER) and the facts the services
//! check about them (key match, CA-ness, chain links).

use der::{Decode as _, Encode as _};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::ext::pkix::{BasicConstraints, SubjectKeyIdentifier};
use x509_cert::name::Name;
use x509_cert::Certificate;

use crate::algorithm::KeyAlgorithm;
use crate::name::DistinguishedName;
use crate::profile::oid;
use crate::{PkiError, PkiResult};

/// The largest certificate accepted (DER).
pub const MAX_CERT_BYTES: usize = 64 * 1024;

/// A parsed certificate with the facts OpenCCM uses.
#[derive(Debug, Clone)]
pub struct ParsedCertificate {
    /// DER.
    pub der: Vec<u8>,
    /// Parsed form.
    pub certificate: Certificate,
    /// Subject.
    pub subject: Name,
    /// Issuer.
    pub issuer: Name,
    /// Known subject attributes.
    pub distinguished_name: DistinguishedName,
    /// SubjectPublicKeyInfo DER.
    pub public_key: Vec<u8>,
    /// The key's algorithm, when OpenCCM supports it.
    pub key_algorithm: Option<KeyAlgorithm>,
    /// Lower-case hex serial.
    pub serial_hex: String,
    /// notBefore, epoch ms.
    pub not_before: i64,
    /// notAfter, epoch ms.
    pub not_after: i64,
    /// basicConstraints cA.
    pub is_ca: bool,
    /// basicConstraints pathLenConstraint.
    pub path_length: Option<u8>,
    /// subjectKeyIdentifier, if present.
    pub subject_key_identifier: Option<Vec<u8>>,
}

fn cert_error(msg: impl Into<String>) -> PkiError {
    PkiError::Certificate(msg.into())
}

/// Parses one DER certificate.
pub fn parse_der(der: &[u8]) -> PkiResult<ParsedCertificate> {
    if der.len() > MAX_CERT_BYTES {
        return Err(cert_error("the certificate is too large"));
    }
    let certificate = Certificate::from_der(der)
        .map_err(|e| cert_error(format!("not an X.509 certificate: {e}")))?;
    if certificate.to_der().map_err(crate::encoding)? != der {
        return Err(cert_error("not DER-encoded"));
    }
    let tbs = &certificate.tbs_certificate;
    let public_key = tbs
        .subject_public_key_info
        .to_der()
        .map_err(crate::encoding)?;
    let key_algorithm = SubjectPublicKeyInfoRef::from_der(&public_key)
        .ok()
        .and_then(|spki| KeyAlgorithm::of_spki(&spki).ok());
    let mut is_ca = false;
    let mut path_length = None;
    let mut subject_key_identifier = None;
    for ext in tbs.extensions.as_deref().unwrap_or_default() {
        if ext.extn_id == oid::BASIC_CONSTRAINTS {
            let bc = BasicConstraints::from_der(ext.extn_value.as_bytes())
                .map_err(|_| cert_error("malformed basicConstraints"))?;
            is_ca = bc.ca;
            path_length = bc.path_len_constraint;
        } else if ext.extn_id == oid::SKI {
            let ski = SubjectKeyIdentifier::from_der(ext.extn_value.as_bytes())
                .map_err(|_| cert_error("malformed subjectKeyIdentifier"))?;
            subject_key_identifier = Some(ski.0.as_bytes().to_vec());
        }
    }
    Ok(ParsedCertificate {
        der: der.to_vec(),
        subject: tbs.subject.clone(),
        issuer: tbs.issuer.clone(),
        distinguished_name: DistinguishedName::from_name(&tbs.subject).unwrap_or_default(),
        public_key,
        key_algorithm,
        serial_hex: hex::encode(tbs.serial_number.as_bytes()),
        not_before: crate::time::from_x509(&tbs.validity.not_before),
        not_after: crate::time::from_x509(&tbs.validity.not_after),
        is_ca,
        path_length,
        subject_key_identifier,
        certificate,
    })
}

/// Parses PEM text holding one or more certificates, in order.
///
/// Fails on any block that is not a `CERTIFICATE`, or text outside blocks.
pub fn parse_pem_chain(text: &str) -> PkiResult<Vec<ParsedCertificate>> {
    let blocks = crate::pem::decode_all(text)?;
    blocks
        .iter()
        .map(|b| {
            if b.label == "CERTIFICATE" {
                parse_der(&b.der)
            } else {
                Err(cert_error(format!(
                    "a {} block is not a CERTIFICATE",
                    b.label
                )))
            }
        })
        .collect()
}

impl ParsedCertificate {
    /// The subject key identifier, or the one OpenCCM would compute.
    pub fn key_identifier(&self) -> PkiResult<Vec<u8>> {
        match &self.subject_key_identifier {
            Some(ski) => Ok(ski.clone()),
            None => crate::profile::key_identifier(&self.public_key),
        }
    }

    /// Whether `issuer` issued this certificate: names chain and the
    /// signature verifies with the issuer's key.
    pub fn verify_issued_by(&self, issuer: &ParsedCertificate) -> PkiResult<()> {
        if self.issuer != issuer.subject {
            return Err(cert_error(
                "the issuer name does not match the next certificate's subject",
            ));
        }
        self.verify_signature_with(&issuer.public_key)
    }

    /// Like [`Self::verify_issued_by`], accepting SM2 signatures over the
    /// standard user id or the empty one (OpenSSL 3.0 signs SM2 certificates
    /// over the empty id unless told otherwise): for certificates OpenCCM
    /// stores but did not issue.
    pub fn verify_issued_by_any_sm2_id(&self, issuer: &ParsedCertificate) -> PkiResult<()> {
        if self.issuer != issuer.subject {
            return Err(cert_error(
                "the issuer name does not match the next certificate's subject",
            ));
        }
        let tbs = self
            .certificate
            .tbs_certificate
            .to_der()
            .map_err(crate::encoding)?;
        let signature = self
            .certificate
            .signature
            .as_bytes()
            .ok_or_else(|| cert_error("malformed signature"))?;
        crate::verify::verify_with_sm2_ids(
            &issuer.public_key,
            self.certificate.signature_algorithm.oid,
            &tbs,
            signature,
            &[crate::sm2::DEFAULT_USER_ID, b""],
        )
        .map_err(|_| cert_error("the signature does not verify with the issuer's key"))
    }

    /// The DNS names and IP addresses of the subjectAltName extension, in order.
    pub fn alt_names(&self) -> PkiResult<Vec<String>> {
        use x509_cert::ext::pkix::name::GeneralName;
        use x509_cert::ext::pkix::SubjectAltName;
        let mut names = Vec::new();
        let extensions = self.certificate.tbs_certificate.extensions.as_deref();
        for ext in extensions.unwrap_or_default() {
            if ext.extn_id != oid::SAN {
                continue;
            }
            let san = SubjectAltName::from_der(ext.extn_value.as_bytes())
                .map_err(|_| cert_error("malformed subjectAltName"))?;
            for name in san.0 {
                match name {
                    GeneralName::DnsName(dns) => names.push(dns.as_str().to_owned()),
                    GeneralName::IpAddress(ip) => match ip.as_bytes().len() {
                        4 => {
                            let b = ip.as_bytes();
                            names.push(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string());
                        }
                        16 => {
                            let mut b = [0u8; 16];
                            b.copy_from_slice(ip.as_bytes());
                            names.push(std::net::Ipv6Addr::from(b).to_string());
                        }
                        _ => {}
                    },
                    _ => {}
                }
            }
        }
        Ok(names)
    }

    /// The signature algorithm as the SCM API names it (`SHA256WITHRSA`,
    /// `SM3WITHSM2`, ...), or the OID when OpenCCM does not know it.
    pub fn signature_algorithm_name(&self) -> String {
        let oid = self.certificate.signature_algorithm.oid;
        crate::algorithm::parse_signature_oid(oid).map_or_else(
            || oid.to_string(),
            |(family, hash)| family.display_name(hash).to_uppercase(),
        )
    }

    /// Verifies this certificate's signature with `issuer_public_key` (SPKI DER).
    pub fn verify_signature_with(&self, issuer_public_key: &[u8]) -> PkiResult<()> {
        let tbs = self
            .certificate
            .tbs_certificate
            .to_der()
            .map_err(crate::encoding)?;
        let signature = self
            .certificate
            .signature
            .as_bytes()
            .ok_or_else(|| cert_error("malformed signature"))?;
        crate::verify::verify(
            issuer_public_key,
            self.certificate.signature_algorithm.oid,
            &tbs,
            signature,
        )
        .map_err(|_| cert_error("the signature does not verify with the issuer's key"))
    }

    /// PEM with the given line endings.
    pub fn to_pem(&self, eol: crate::pem::Eol) -> PkiResult<String> {
        crate::pem::encode("CERTIFICATE", &self.der, eol)
    }
}

/// PEM of a DER certificate.
pub fn der_to_pem(der: &[u8], eol: crate::pem::Eol) -> PkiResult<String> {
    crate::pem::encode("CERTIFICATE", der, eol)
}

/// A certificate as `openssl x509 -text` prints it (OpenSSL's printer),
/// for people to read on the console's certificate page.
pub fn der_to_text(der: &[u8]) -> PkiResult<String> {
    let x509 = openssl::x509::X509::from_der(der)
        .map_err(|_| cert_error("the stored certificate does not parse"))?;
    let text = x509
        .to_text()
        .map_err(|_| cert_error("the certificate cannot be printed"))?;
    // OpenSSL prints some strings byte for byte: show what is not UTF-8 as
    // replacement characters rather than refuse the page.
    Ok(String::from_utf8_lossy(&text).into_owned())
}
