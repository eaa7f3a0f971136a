//! Certificate revocation lists (RFC 5280 §5), full and delta, built as a
//! stream.
//!
//! A CA with a million revoked certificates has a CRL of some 50 MB: the
//! entries are appended to one DER buffer as they are read from the store
//! ([`CrlBuilder::push`]), after the fixed fields that precede them and a
//! little room for the headers whose lengths are known only at the end. The
//! TBS and then the signed CRL are completed in that same buffer: no copy
//! of the entries is ever made, and nothing else per entry is kept.
//!
//! Like a certificate's TBS, a TBSCertList can only be signed once it is
//! complete ([`CrlBuilder::finish`] yields the [`UnsignedCrl`] that
//! [`UnsignedCrl::sign`] consumes).

use der::asn1::{BitString, OctetString, Uint};
use der::{Encode as _, Header, Length, Tag, TagNumber};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::crl::{BaseCrlNumber, CrlNumber, FreshestCrl};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::AuthorityKeyIdentifier;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::algorithm::signature_algorithm_identifier;
use crate::profile::{extension, sign_checked, Signer};
use crate::{HashAlgorithm, KeyAlgorithm, PkiError, PkiResult};

/// OIDs of CRL extensions.
mod oid {
    use const_oid::ObjectIdentifier;

    /// authorityKeyIdentifier.
    pub const AKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
    /// cRLNumber.
    pub const CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
    /// deltaCRLIndicator.
    pub const DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
    /// freshestCRL.
    pub const FRESHEST_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");
    /// reasonCode.
    pub const REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
}

/// Which CRL is being built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrlKind {
    /// A complete CRL; `freshest` is the URL of its delta CRLs (freshestCRL,
    /// RFC 5280 §5.2.6), if any.
    Full {
        /// The delta CRL's URL.
        freshest: Option<String>,
    },
    /// A delta CRL listing what was revoked since the complete CRL numbered
    /// `base` (deltaCRLIndicator, RFC 5280 §5.2.4).
    Delta {
        /// The base CRL's number.
        base: u64,
    },
}

/// What every CRL of a CA carries.
#[derive(Debug, Clone)]
pub struct CrlHeader {
    /// The CA's subject, the CRL's issuer (RFC 5280 §5.1.2.3).
    pub issuer: Name,
    /// The CA's subject key identifier, the CRL's authorityKeyIdentifier.
    pub key_identifier: Vec<u8>,
    /// The CA key's algorithm.
    pub key_algorithm: KeyAlgorithm,
    /// The signature hash.
    pub hash: HashAlgorithm,
    /// The CRL number (RFC 5280 §5.2.3: grows with every CRL of the CA).
    pub number: u64,
    /// thisUpdate, epoch ms.
    pub this_update: i64,
    /// nextUpdate, epoch ms.
    pub next_update: i64,
    /// Full or delta.
    pub kind: CrlKind,
}

/// A CRL being built: entries are appended as they come.
#[derive(Debug)]
pub struct CrlBuilder {
    header: CrlHeader,
    signature_algorithm: AlgorithmIdentifierOwned,
    /// `[ROOM][prefix][ROOM][entries…]`: the TBS fields before the entries
    /// (version, signature, issuer, thisUpdate, nextUpdate), then the
    /// entries' DER back to back. The room holds the headers written at the
    /// end (the certificate list's, the TBS's, the entries' SEQUENCE).
    buffer: Vec<u8>,
    prefix_len: usize,
    count: u64,
}

/// Room for the two outer headers (a SEQUENCE header is at most 6 octets up
/// to the 256 MiB `der` encodes).
const OUTER_ROOM: usize = 12;

/// Room for the entries' SEQUENCE header.
const ENTRIES_ROOM: usize = 6;

/// A complete TBSCertList, ready to be signed.
#[derive(Debug)]
pub struct UnsignedCrl {
    /// `[room][TBSCertList]`, the TBS from `tbs_start`.
    buffer: Vec<u8>,
    tbs_start: usize,
    signature_algorithm: AlgorithmIdentifierOwned,
    key_algorithm: KeyAlgorithm,
    hash: HashAlgorithm,
    count: u64,
}

fn header_of(tag: Tag, len: usize) -> PkiResult<Vec<u8>> {
    let length = Length::try_from(len).map_err(crate::encoding)?;
    Header::new(tag, length)
        .map_err(crate::encoding)?
        .to_der()
        .map_err(crate::encoding)
}

fn uint(value: u64) -> PkiResult<Uint> {
    Uint::new(&value.to_be_bytes()).map_err(crate::encoding)
}

impl CrlBuilder {
    /// Starts a CRL.
    ///
    /// Fails if the hash does not fit the key or a time cannot be encoded.
    pub fn new(header: CrlHeader) -> PkiResult<Self> {
        if header.next_update <= header.this_update {
            return Err(PkiError::Validity(
                "a CRL's nextUpdate must follow its thisUpdate".to_owned(),
            ));
        }
        let signature_algorithm =
            signature_algorithm_identifier(header.key_algorithm, header.hash)?;
        let mut buffer = vec![0; OUTER_ROOM];
        for field in [
            x509_cert::Version::V2.to_der(),
            signature_algorithm.to_der(),
            header.issuer.to_der(),
            crate::time::to_x509(header.this_update)?.to_der(),
            crate::time::to_x509(header.next_update)?.to_der(),
        ] {
            buffer.extend_from_slice(&field.map_err(crate::encoding)?);
        }
        let prefix_len = buffer.len() - OUTER_ROOM;
        buffer.resize(buffer.len() + ENTRIES_ROOM, 0);
        Ok(Self {
            header,
            signature_algorithm,
            buffer,
            prefix_len,
            count: 0,
        })
    }

    /// Makes room for about `entries` more entries at once (a CRL of known
    /// size then never doubles its buffer while it grows).
    pub fn reserve(&mut self, entries: usize) {
        // An entry with a 16-octet serial and a reason code: 45 octets.
        self.buffer.reserve(entries.saturating_mul(48));
    }

    /// Appends the entry of a revoked certificate: its serial (the INTEGER's
    /// content octets), when it was revoked and why: an RFC 5280 §5.3.1
    /// `CRLReason` code, or `None` for an entry without reasonCode (how
    /// `unspecified` is written).
    ///
    /// Fails if the serial is not a positive INTEGER of at most 20 octets
    /// (RFC 5280 §4.1.2.2) or the time cannot be encoded.
    pub fn push(&mut self, serial: &[u8], revoked_at: i64, reason: Option<u8>) -> PkiResult<()> {
        if serial.is_empty() || serial.len() > 21 || serial.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(PkiError::Certificate(
                "a serial number must be a positive INTEGER of at most 20 octets".to_owned(),
            ));
        }
        let serial =
            x509_cert::serial_number::SerialNumber::new(serial).map_err(crate::encoding)?;
        let extensions = reason
            .map(|code| -> PkiResult<Vec<Extension>> {
                // CRLReason ::= ENUMERATED
                Ok(vec![Extension {
                    extn_id: oid::REASON_CODE,
                    critical: false,
                    extn_value: OctetString::new(vec![0x0a, 0x01, code])
                        .map_err(crate::encoding)?,
                }])
            })
            .transpose()?;
        let entry = x509_cert::crl::RevokedCert {
            serial_number: serial,
            revocation_date: crate::time::to_x509(revoked_at)?,
            crl_entry_extensions: extensions,
        };
        entry
            .encode_to_vec(&mut self.buffer)
            .map_err(crate::encoding)?;
        self.count += 1;
        Ok(())
    }

    /// How many entries it has.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether it has no entries.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Completes the TBSCertList: version 2, the signature algorithm, the
    /// issuer, thisUpdate and nextUpdate, the entries (absent when there are
    /// none, RFC 5280 §5.1.2.6), and the extensions (authorityKeyIdentifier,
    /// cRLNumber, and freshestCRL or deltaCRLIndicator).
    ///
    /// Fails if an extension cannot be encoded.
    pub fn finish(self) -> PkiResult<UnsignedCrl> {
        let h = &self.header;
        let mut extensions = vec![
            extension(
                oid::AKI,
                false,
                &AuthorityKeyIdentifier {
                    key_identifier: Some(
                        OctetString::new(h.key_identifier.clone()).map_err(crate::encoding)?,
                    ),
                    authority_cert_issuer: None,
                    authority_cert_serial_number: None,
                },
            )?,
            extension(oid::CRL_NUMBER, false, &CrlNumber(uint(h.number)?))?,
        ];
        match &h.kind {
            CrlKind::Full {
                freshest: Some(url),
            } => extensions.push(extension(
                oid::FRESHEST_CRL,
                false,
                &FreshestCrl(vec![DistributionPoint {
                    distribution_point: Some(DistributionPointName::FullName(vec![
                        GeneralName::UniformResourceIdentifier(
                            der::asn1::Ia5String::new(url).map_err(crate::encoding)?,
                        ),
                    ])),
                    reasons: None,
                    crl_issuer: None,
                }]),
            )?),
            CrlKind::Full { freshest: None } => {}
            // RFC 5280 §5.2.4: the delta CRL indicator is critical.
            CrlKind::Delta { base } => extensions.push(extension(
                oid::DELTA_CRL_INDICATOR,
                true,
                &BaseCrlNumber(uint(*base)?),
            )?),
        }
        // crlExtensions [0] EXPLICIT Extensions
        let extensions = extensions.to_der().map_err(crate::encoding)?;
        let explicit = header_of(
            Tag::ContextSpecific {
                constructed: true,
                number: TagNumber::N0,
            },
            extensions.len(),
        )?;
        let Self {
            mut buffer,
            prefix_len,
            count,
            signature_algorithm,
            header,
            ..
        } = self;
        let entries_start = OUTER_ROOM + prefix_len + ENTRIES_ROOM;
        // The entries' header ends where they begin (RFC 5280 §5.1.2.6: no
        // field at all without entries); the prefix moves up against it.
        let entries_header = if count == 0 {
            Vec::new()
        } else {
            header_of(Tag::Sequence, buffer.len() - entries_start)?
        };
        let header_start = entries_start - entries_header.len();
        buffer[header_start..entries_start].copy_from_slice(&entries_header);
        let prefix_start = header_start - prefix_len;
        buffer.copy_within(OUTER_ROOM..OUTER_ROOM + prefix_len, prefix_start);
        buffer.extend_from_slice(&explicit);
        buffer.extend_from_slice(&extensions);
        let tbs_header = header_of(Tag::Sequence, buffer.len() - prefix_start)?;
        let tbs_start = prefix_start
            .checked_sub(tbs_header.len())
            .ok_or_else(|| crate::encoding("TBS header"))?;
        buffer[tbs_start..prefix_start].copy_from_slice(&tbs_header);
        Ok(UnsignedCrl {
            buffer,
            tbs_start,
            signature_algorithm,
            key_algorithm: header.key_algorithm,
            hash: header.hash,
            count,
        })
    }
}

impl UnsignedCrl {
    /// The TBSCertList DER.
    pub fn tbs(&self) -> &[u8] {
        self.buffer.get(self.tbs_start..).unwrap_or_default()
    }

    /// How many entries it lists.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether it lists none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Signs it with the CA's key: the CertificateList DER.
    ///
    /// RSA signatures are verified before they leave ([`sign_checked`]).
    ///
    /// Fails if the signer is not a key of the CRL's algorithm or signing fails.
    pub fn sign(self, signer: &dyn Signer) -> PkiResult<Vec<u8>> {
        if signer.key_algorithm() != self.key_algorithm {
            return Err(PkiError::Signing(
                "the signer is not the CA's key".to_owned(),
            ));
        }
        let signature = sign_checked(signer, &self.signature_algorithm, self.hash, self.tbs())?;
        let algorithm = self.signature_algorithm.to_der().map_err(crate::encoding)?;
        let signature = BitString::from_bytes(&signature)
            .and_then(|b| b.to_der())
            .map_err(crate::encoding)?;
        // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm,
        // signatureValue }, its header in the room left before the TBS.
        let Self {
            mut buffer,
            tbs_start,
            ..
        } = self;
        let content = buffer.len() - tbs_start + algorithm.len() + signature.len();
        let header = header_of(Tag::Sequence, content)?;
        let start = tbs_start
            .checked_sub(header.len())
            .ok_or_else(|| crate::encoding("CRL header"))?;
        buffer[start..tbs_start].copy_from_slice(&header);
        buffer.extend_from_slice(&algorithm);
        buffer.extend_from_slice(&signature);
        buffer.drain(..start);
        Ok(buffer)
    }
}

#[cfg(test)]
mod tests {
    use der::Decode as _;
    use x509_cert::crl::CertificateList;

    use super::*;

    fn header(kind: CrlKind) -> CrlHeader {
        CrlHeader {
            issuer: Name::default(),
            key_identifier: vec![7; 20],
            key_algorithm: KeyAlgorithm::Ec256,
            hash: HashAlgorithm::Sha256,
            number: 300,
            this_update: 1_764_115_200_000,
            next_update: 1_764_115_200_000 + 86_400_000,
            kind,
        }
    }

    /// The streamed TBS decodes as RFC 5280's structure, field for field.
    #[test]
    fn a_streamed_tbs_decodes_as_a_tbs_cert_list() {
        let mut builder = CrlBuilder::new(header(CrlKind::Full {
            freshest: Some("http://x.test/d.crl".to_owned()),
        }))
        .unwrap();
        builder
            .push(&[0x01, 0x02], 1_764_000_000_000, Some(1))
            .unwrap();
        builder.push(&[0x7f; 16], 1_764_000_001_000, None).unwrap();
        let unsigned = builder.finish().unwrap();
        let tbs = x509_cert::crl::TbsCertList::from_der(unsigned.tbs()).unwrap();
        assert_eq!(tbs.version, x509_cert::Version::V2);
        let revoked = tbs.revoked_certificates.unwrap();
        assert_eq!(revoked.len(), 2);
        assert_eq!(revoked[0].serial_number.as_bytes(), &[0x01, 0x02]);
        let reason = &revoked[0].crl_entry_extensions.as_ref().unwrap()[0];
        assert_eq!(reason.extn_id, oid::REASON_CODE);
        assert_eq!(reason.extn_value.as_bytes(), &[0x0a, 0x01, 0x01]);
        assert!(revoked[1].crl_entry_extensions.is_none());
        let ids: Vec<_> = tbs
            .crl_extensions
            .unwrap()
            .iter()
            .map(|e| e.extn_id)
            .collect();
        assert_eq!(ids, [oid::AKI, oid::CRL_NUMBER, oid::FRESHEST_CRL]);
    }

    #[test]
    fn an_empty_crl_has_no_revoked_certificates_field() {
        let unsigned = CrlBuilder::new(header(CrlKind::Delta { base: 299 }))
            .unwrap()
            .finish()
            .unwrap();
        let tbs = x509_cert::crl::TbsCertList::from_der(unsigned.tbs()).unwrap();
        assert!(tbs.revoked_certificates.is_none());
        let delta = tbs
            .crl_extensions
            .unwrap()
            .into_iter()
            .find(|e| e.extn_id == oid::DELTA_CRL_INDICATOR)
            .unwrap();
        assert!(delta.critical);
        assert_eq!(delta.extn_value.as_bytes(), &[0x02, 0x02, 0x01, 0x2b]);
    }

    #[test]
    fn serials_that_are_not_positive_integers_are_refused() {
        let mut builder = CrlBuilder::new(header(CrlKind::Full { freshest: None })).unwrap();
        assert!(builder.push(&[], 0, Some(4)).is_err());
        assert!(builder.push(&[0x80, 1], 0, Some(4)).is_err());
        assert!(builder.push(&[1; 22], 0, Some(4)).is_err());
        assert!(builder.is_empty());
    }

    #[test]
    fn a_signed_crl_decodes_as_a_certificate_list() {
        struct Fixed;
        impl Signer for Fixed {
            fn key_algorithm(&self) -> KeyAlgorithm {
                KeyAlgorithm::Ec256
            }
            fn public_key_der(&self) -> &[u8] {
                &[]
            }
            fn sign(&self, _: HashAlgorithm, _: &[u8]) -> PkiResult<Vec<u8>> {
                Ok(vec![0x30, 0x00])
            }
        }
        let mut builder = CrlBuilder::new(header(CrlKind::Full { freshest: None })).unwrap();
        builder.push(&[5], 1_764_000_000_000, Some(4)).unwrap();
        let der = builder.finish().unwrap().sign(&Fixed).unwrap();
        let crl = CertificateList::from_der(&der).unwrap();
        assert_eq!(crl.signature.raw_bytes(), &[0x30, 0x00]);
        assert_eq!(crl.tbs_cert_list.revoked_certificates.unwrap().len(), 1);
    }
}
