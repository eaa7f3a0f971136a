//! OCSP (RFC 6960, with RFC 5019's profile and RFC 8954's nonce): parsing
//! requests and building signed responses. The structures are RustCrypto's
//! `x509-ocsp`; which status to answer is the caller's business.
//!
//! Responses are signed by the CA's own key (RFC 6960 §4.2.2.2: the CA that
//! issued the certificate may sign), so relying parties need no delegated
//! responder certificate, and the responder id is the CA key's hash.

use der::asn1::{BitString, GeneralizedTime, OctetString};
use der::{Decode as _, Encode as _};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::Extension;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    ResponderId, ResponseData, RevokedInfo, SingleResponse, Version,
};

use crate::algorithm::signature_algorithm_identifier;
use crate::profile::{sign_checked, Signer};
use crate::{HashAlgorithm, KeyAlgorithm, PkiError, PkiResult};

/// The questions one request may ask. RFC 5019 clients ask one; OpenSSL's
/// command line asks one per `-serial`.
pub const MAX_QUESTIONS: usize = 16;

/// RFC 8954 §2.1: a nonce is 1 to 32 octets.
const MAX_NONCE: usize = 32;

mod oid {
    use const_oid::ObjectIdentifier;

    /// id-sha1.
    pub const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    /// id-sha256.
    pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    /// id-pkix-ocsp-nonce.
    pub const NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
}

/// Why a request gets no status: the unsuccessful OCSPResponseStatus values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// malformedRequest (1): not an OCSP request, or one that breaks a bound.
    Malformed,
    /// internalError (2).
    Internal,
    /// unauthorized (6): a question about a CA this responder does not serve.
    Unauthorized,
}

impl Refusal {
    /// The OCSPResponse DER: a status and no response bytes.
    pub fn response(self) -> Vec<u8> {
        let response = match self {
            Self::Malformed => OcspResponse::malformed_request(),
            Self::Internal => OcspResponse::internal_error(),
            Self::Unauthorized => OcspResponse::unauthorized(),
        };
        // A status with no response bytes always encodes (three fixed octets).
        response
            .to_der()
            .unwrap_or_else(|_| vec![0x30, 0x03, 0x0a, 0x01, 0x02])
    }
}

/// The hash a CertID was computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertIdHash {
    /// SHA-1 (what RFC 5019 clients and OpenSSL send by default).
    Sha1,
    /// SHA-256.
    Sha256,
}

/// One question: the CertID as asked (echoed in the answer) and its parts.
#[derive(Debug, Clone)]
pub struct Question {
    /// The CertID, exactly as asked.
    pub cert_id: CertId,
    /// Its hash, when it is one the responder computes.
    pub hash: Option<CertIdHash>,
}

impl Question {
    /// The serial's INTEGER content octets as lower-case hex (how the store
    /// keeps serials).
    pub fn serial_hex(&self) -> String {
        hex::encode(self.cert_id.serial_number.as_bytes())
    }
}

/// A parsed request.
#[derive(Debug, Clone)]
pub struct ParsedRequest {
    /// The questions (1 to [`MAX_QUESTIONS`]).
    pub questions: Vec<Question>,
    /// The nonce extension, to be echoed (RFC 8954).
    pub nonce: Option<Extension>,
    /// Whether it is in RFC 5019's plain form: no requestor name, no
    /// signature, no extensions but a nonce, none on the questions.
    pub plain: bool,
}

/// Parses a DER OCSPRequest (the caller bounds its size).
///
/// Fails with [`Refusal::Malformed`] on anything that is not one, on no
/// question or more than [`MAX_QUESTIONS`], and on a nonce outside 1–32
/// octets (RFC 8954 §2.1).
pub fn parse_request(der: &[u8]) -> Result<ParsedRequest, Refusal> {
    let request = OcspRequest::from_der(der).map_err(|_| Refusal::Malformed)?;
    let list = request.tbs_request.request_list;
    let plain = request.tbs_request.requestor_name.is_none()
        && request.optional_signature.is_none()
        && request
            .tbs_request
            .request_extensions
            .as_ref()
            .is_none_or(|e| e.iter().all(|e| e.extn_id == oid::NONCE))
        && list.iter().all(|r| r.single_request_extensions.is_none());
    if list.is_empty() || list.len() > MAX_QUESTIONS {
        return Err(Refusal::Malformed);
    }
    let nonce = match request.tbs_request.request_extensions {
        Some(extensions) => {
            let mut nonces = extensions.into_iter().filter(|e| e.extn_id == oid::NONCE);
            let nonce = nonces.next();
            if nonces.next().is_some() {
                return Err(Refusal::Malformed);
            }
            if let Some(nonce) = &nonce {
                let value = OctetString::from_der(nonce.extn_value.as_bytes())
                    .map_err(|_| Refusal::Malformed)?;
                if value.is_empty() || value.as_bytes().len() > MAX_NONCE {
                    return Err(Refusal::Malformed);
                }
            }
            nonce
        }
        None => None,
    };
    let questions = list
        .into_iter()
        .map(|r| {
            let hash = match r.req_cert.hash_algorithm.oid {
                o if o == oid::SHA1 => Some(CertIdHash::Sha1),
                o if o == oid::SHA256 => Some(CertIdHash::Sha256),
                _ => None,
            };
            Question {
                cert_id: r.req_cert,
                hash,
            }
        })
        .collect();
    Ok(ParsedRequest {
        questions,
        nonce,
        plain,
    })
}

/// What identifies a CA in a CertID, under each hash the responder knows,
/// and its responder id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerHashes {
    sha1_name: [u8; 20],
    sha1_key: [u8; 20],
    sha256_name: [u8; 32],
    sha256_key: [u8; 32],
}

impl IssuerHashes {
    /// The hashes of a CA's subject (DER `Name`) and public key
    /// (SubjectPublicKeyInfo DER; the BIT STRING's value is hashed).
    ///
    /// Fails if the public key does not parse.
    pub fn new(subject_der: &[u8], spki_der: &[u8]) -> PkiResult<Self> {
        let spki = SubjectPublicKeyInfoRef::from_der(spki_der)
            .map_err(|e| PkiError::Key(e.to_string()))?;
        let key = spki.subject_public_key.raw_bytes();
        Ok(Self {
            sha1_name: Sha1::digest(subject_der).into(),
            sha1_key: Sha1::digest(key).into(),
            sha256_name: Sha256::digest(subject_der).into(),
            sha256_key: Sha256::digest(key).into(),
        })
    }

    /// SHA-1 of the CA's public key value: its responder id, byKey
    /// (RFC 6960 §4.2.2.3).
    pub fn sha1_key(&self) -> [u8; 20] {
        self.sha1_key
    }

    /// Whether the question is about a certificate of this CA.
    pub fn asks_about_me(&self, question: &Question) -> bool {
        let id = &question.cert_id;
        let (name, key): (&[u8], &[u8]) = match question.hash {
            Some(CertIdHash::Sha1) => (&self.sha1_name, &self.sha1_key),
            Some(CertIdHash::Sha256) => (&self.sha256_name, &self.sha256_key),
            None => return false,
        };
        id.issuer_name_hash.as_bytes() == name && id.issuer_key_hash.as_bytes() == key
    }
}

/// A certificate's status as the responder answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Issued by the CA and not revoked.
    Good,
    /// Revoked at `at` (epoch ms), for a reason (an API name's RFC 5280
    /// code; `None` for unspecified, as on the CRL).
    Revoked {
        /// Revocation time, epoch ms.
        at: i64,
        /// `CRLReason` code.
        reason: Option<u8>,
    },
    /// Never issued by the CA.
    Unknown,
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Answer<'a> {
    /// The question's CertID, echoed.
    pub cert_id: &'a CertId,
    /// The status.
    pub status: Status,
}

/// The signing CA as the responder.
#[derive(Debug, Clone)]
pub struct Responder<'a> {
    /// The CA key's algorithm.
    pub key_algorithm: KeyAlgorithm,
    /// The signature hash.
    pub hash: HashAlgorithm,
    /// SHA-1 of the CA's subjectPublicKey value (the responder id, byKey).
    pub key_hash: &'a [u8],
}

fn generalized(ms: i64) -> PkiResult<OcspGeneralizedTime> {
    let secs = u64::try_from(ms.div_euclid(1000))
        .map_err(|_| PkiError::Validity("times before 1970 cannot be encoded".to_owned()))?;
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map(OcspGeneralizedTime)
        .map_err(|e| PkiError::Validity(e.to_string()))
}

fn crl_reason(code: u8) -> Option<CrlReason> {
    Some(match code {
        1 => CrlReason::KeyCompromise,
        2 => CrlReason::CaCompromise,
        3 => CrlReason::AffiliationChanged,
        4 => CrlReason::Superseded,
        5 => CrlReason::CessationOfOperation,
        6 => CrlReason::CertificateHold,
        9 => CrlReason::PrivilegeWithdrawn,
        10 => CrlReason::AaCompromise,
        _ => return None,
    })
}

/// Builds and signs a successful OCSPResponse (DER): producedAt and every
/// thisUpdate are `now`, every nextUpdate `next_update`, and `nonce`, if
/// given, is echoed.
///
/// RSA signatures are verified before they leave ([`sign_checked`]).
///
/// Fails if the signer is not the responder's key or encoding or signing fails.
pub fn sign_response(
    responder: &Responder<'_>,
    answers: &[Answer<'_>],
    now: i64,
    next_update: i64,
    nonce: Option<&Extension>,
    signer: &dyn Signer,
) -> PkiResult<Vec<u8>> {
    if signer.key_algorithm() != responder.key_algorithm {
        return Err(PkiError::Signing(
            "the signer is not the CA's key".to_owned(),
        ));
    }
    let produced_at = generalized(now)?;
    let next = generalized(next_update)?;
    let responses = answers
        .iter()
        .map(|answer| {
            let cert_status = match answer.status {
                Status::Good => CertStatus::good(),
                Status::Unknown => CertStatus::unknown(),
                Status::Revoked { at, reason } => CertStatus::revoked(RevokedInfo {
                    revocation_time: generalized(at)?,
                    revocation_reason: reason.and_then(crl_reason),
                }),
            };
            Ok(SingleResponse {
                cert_id: answer.cert_id.clone(),
                cert_status,
                this_update: produced_at,
                next_update: Some(next),
                single_extensions: None,
            })
        })
        .collect::<PkiResult<Vec<_>>>()?;
    let data = ResponseData {
        version: Version::V1,
        responder_id: ResponderId::ByKey(
            OctetString::new(responder.key_hash).map_err(crate::encoding)?,
        ),
        produced_at,
        responses,
        response_extensions: nonce.map(|n| vec![n.clone()]),
    };
    let tbs = data.to_der().map_err(crate::encoding)?;
    let signature_algorithm =
        signature_algorithm_identifier(responder.key_algorithm, responder.hash)?;
    let signature = sign_checked(signer, &signature_algorithm, responder.hash, &tbs)?;
    let basic = BasicOcspResponse {
        tbs_response_data: data,
        signature_algorithm,
        signature: BitString::from_bytes(&signature).map_err(crate::encoding)?,
        certs: None,
    };
    OcspResponse::successful(basic)
        .and_then(|r| r.to_der())
        .map_err(crate::encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    // `openssl ocsp -issuer ca.pem -serial 0x0102 -reqout req.der` (SHA-1 CertID, a nonce).
    fn request(serial: &[u8], nonce: Option<&[u8]>) -> Vec<u8> {
        use x509_ocsp::{Request, TbsRequest};
        let cert_id = CertId {
            hash_algorithm: spki::AlgorithmIdentifierOwned {
                oid: oid::SHA1,
                parameters: None,
            },
            issuer_name_hash: OctetString::new(vec![1; 20]).unwrap(),
            issuer_key_hash: OctetString::new(vec![2; 20]).unwrap(),
            serial_number: x509_cert::serial_number::SerialNumber::new(serial).unwrap(),
        };
        let extensions = nonce.map(|n| {
            vec![Extension {
                extn_id: oid::NONCE,
                critical: false,
                extn_value: OctetString::new(OctetString::new(n).unwrap().to_der().unwrap())
                    .unwrap(),
            }]
        });
        OcspRequest {
            tbs_request: TbsRequest {
                version: Version::V1,
                requestor_name: None,
                request_list: vec![Request {
                    req_cert: cert_id,
                    single_request_extensions: None,
                }],
                request_extensions: extensions,
            },
            optional_signature: None,
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn a_request_yields_its_questions_and_nonce() {
        let parsed = parse_request(&request(&[1, 2], Some(&[9; 16]))).unwrap();
        assert_eq!(parsed.questions.len(), 1);
        assert_eq!(parsed.questions[0].serial_hex(), "0102");
        assert_eq!(parsed.questions[0].hash, Some(CertIdHash::Sha1));
        assert!(parsed.nonce.is_some());
    }

    #[test]
    fn garbage_and_oversized_nonces_are_malformed() {
        assert_eq!(parse_request(b"not der").unwrap_err(), Refusal::Malformed);
        assert_eq!(parse_request(&[]).unwrap_err(), Refusal::Malformed);
        assert_eq!(
            parse_request(&request(&[1], Some(&[9; 33]))).unwrap_err(),
            Refusal::Malformed
        );
        let mut truncated = request(&[1], None);
        truncated.pop();
        assert_eq!(parse_request(&truncated).unwrap_err(), Refusal::Malformed);
    }

    #[test]
    fn refusals_encode_their_status() {
        assert_eq!(
            Refusal::Malformed.response(),
            [0x30, 0x03, 0x0a, 0x01, 0x01]
        );
        assert_eq!(
            Refusal::Unauthorized.response(),
            [0x30, 0x03, 0x0a, 0x01, 0x06]
        );
    }

    #[test]
    fn only_the_issuers_own_hashes_match() {
        let parsed = parse_request(&request(&[1], None)).unwrap();
        let hashes = IssuerHashes {
            sha1_name: [1; 20],
            sha1_key: [2; 20],
            sha256_name: [1; 32],
            sha256_key: [2; 32],
        };
        assert!(hashes.asks_about_me(&parsed.questions[0]));
        let other = IssuerHashes {
            sha1_key: [3; 20],
            ..hashes
        };
        assert!(!other.asks_about_me(&parsed.questions[0]));
    }
}
