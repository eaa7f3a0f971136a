//! Private CAs and their certificates, and how lists of them are asked for.

use super::{SortDir, TagFilter, Visibility};
use crate::ids::{CaId, CertId, DomainId};

/// The subject fields shown as `distinguished_name`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameFields {
    /// CN.
    pub common_name: String,
    /// C.
    pub country: Option<String>,
    /// ST.
    pub state: Option<String>,
    /// L.
    pub locality: Option<String>,
    /// O.
    pub organization: Option<String>,
    /// OU.
    pub organizational_unit: Option<String>,
}

/// CRL publishing settings of a CA.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrlSettings {
    /// Publishing on.
    pub enabled: bool,
    /// File name.
    pub crl_name: Option<String>,
    /// The (cloud) bucket name, kept as given.
    pub bucket: Option<String>,
    /// Update period, days.
    pub valid_days: Option<i64>,
}

/// A private CA.
#[derive(Clone, PartialEq, Eq)]
pub struct CaRecord {
    /// Id.
    pub ca_id: CaId,
    /// Owner.
    pub domain_id: DomainId,
    /// Root or subordinate.
    pub ca_type: crate::CaType,
    /// False for an `INTERMEDIATE_CA` issued from a customer CSR (not listed, key elsewhere).
    pub listed: bool,
    /// The stored state (expiry is computed: [`crate::CaStatus`]).
    pub status: crate::CaState,
    /// Parent CA (`None` for roots and externally signed CAs).
    pub issuer_id: Option<CaId>,
    /// Parent CA's common name.
    pub issuer_name: Option<String>,
    /// Path length (7 = unlimited, for roots).
    pub path_length: i64,
    /// Its key's algorithm.
    pub key_algorithm: openccm_pki::KeyAlgorithm,
    /// The hash of its certificate's signature (none while pending).
    pub signature_algorithm: Option<openccm_pki::HashAlgorithm>,
    /// Key usages its certificate asserts.
    pub key_usages: openccm_pki::profile::KeyUsageSet,
    /// `GENERATE` | `CSR` | `IMPORT`.
    pub gen_mode: crate::GenMode,
    /// Serial of its certificate (hex).
    pub serial_number: Option<String>,
    /// Subject fields.
    pub name: NameFields,
    /// Subject Name DER (exactly as in its certificate, or as requested).
    pub subject: Vec<u8>,
    /// Key owner label (seal binding); `None` when the key is external.
    pub key_owner: Option<String>,
    /// Sealed private key; `None` when the key is external.
    pub sealed_key: Option<Vec<u8>>,
    /// SubjectPublicKeyInfo DER.
    pub public_key: Vec<u8>,
    /// Its certificate (DER), once it has one.
    pub certificate: Option<Vec<u8>>,
    /// PEM chain above it, when its parent is external.
    pub chain: Option<String>,
    /// Validity, epoch ms.
    pub not_before: Option<i64>,
    /// Validity, epoch ms.
    pub not_after: Option<i64>,
    /// Epoch ms.
    pub create_time: i64,
    /// Scheduled deletion, epoch ms.
    pub delete_time: Option<i64>,
    /// CRL settings.
    pub crl: CrlSettings,
    /// OCSP on.
    pub ocsp_enabled: bool,
    /// Enterprise project.
    pub enterprise_project_id: String,
    /// Revocation time, epoch ms.
    pub revoked_at: Option<i64>,
    /// Revocation reason.
    pub revocation_reason: Option<crate::RevocationReason>,
}

impl std::fmt::Debug for CaRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaRecord")
            .field("ca_id", &self.ca_id)
            .field("status", &self.status)
            .field("key_algorithm", &self.key_algorithm)
            .finish_non_exhaustive()
    }
}

/// A private certificate.
#[derive(Clone, PartialEq, Eq)]
pub struct CertRecord {
    /// Id.
    pub certificate_id: CertId,
    /// Owner.
    pub domain_id: DomainId,
    /// Issuing CA.
    pub issuer_id: CaId,
    /// Issuing CA's common name.
    pub issuer_name: String,
    /// The subject key's algorithm.
    pub key_algorithm: openccm_pki::KeyAlgorithm,
    /// The hash its issuer signed with.
    pub signature_algorithm: openccm_pki::HashAlgorithm,
    /// `GENERATE` | `CSR` | `IMPORT`.
    pub gen_mode: crate::GenMode,
    /// Serial (hex).
    pub serial_number: String,
    /// Subject fields.
    pub name: NameFields,
    /// SHA-256 of the linted TBS (recorded with the intent).
    pub tbs_digest: Vec<u8>,
    /// The certificate (DER), once issued.
    pub certificate: Option<Vec<u8>>,
    /// Key owner label, when the service generated the key.
    pub key_owner: Option<String>,
    /// Sealed private key, when the service generated it.
    pub sealed_key: Option<Vec<u8>>,
    /// SM2 encryption certificate serial.
    pub enc_serial_number: Option<String>,
    /// SM2 encryption certificate TBS digest.
    pub enc_tbs_digest: Option<Vec<u8>>,
    /// SM2 encryption certificate (DER).
    pub enc_certificate: Option<Vec<u8>>,
    /// SM2 encryption key owner label.
    pub enc_key_owner: Option<String>,
    /// Sealed SM2 encryption private key.
    pub enc_sealed_key: Option<Vec<u8>>,
    /// The public key of the customer's CSR (the envelope's recipient).
    pub csr_public_key: Option<Vec<u8>>,
    /// Validity, epoch ms.
    pub not_before: i64,
    /// Validity, epoch ms.
    pub not_after: i64,
    /// Epoch ms.
    pub create_time: i64,
    /// Deletion, epoch ms.
    pub deleted_at: Option<i64>,
    /// Revocation time, epoch ms.
    pub revoked_at: Option<i64>,
    /// Revocation reason.
    pub revocation_reason: Option<crate::RevocationReason>,
    /// Enterprise project.
    pub enterprise_project_id: String,
}

impl std::fmt::Debug for CertRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertRecord")
            .field("certificate_id", &self.certificate_id)
            .field("serial_number", &self.serial_number)
            .finish_non_exhaustive()
    }
}

/// How CA lists are sorted (then by id, so pages are stable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaSortKey {
    /// Creation time (the default).
    #[default]
    CreateTime,
    /// Common name.
    CommonName,
    /// Root before subordinate, or the reverse.
    Type,
    /// Expiry.
    NotAfter,
}

/// How certificate lists are sorted (then by id, so pages are stable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CertSortKey {
    /// Creation time (the default).
    #[default]
    CreateTime,
    /// Common name.
    CommonName,
    /// The issuing CA's common name.
    IssuerName,
    /// Expiry.
    NotAfter,
}

/// ListCertificateAuthority filters.
#[derive(Debug, Clone, Default)]
pub struct CaFilter {
    /// Substring of the CN.
    pub name: Option<String>,
    /// The status shown.
    pub status: Option<crate::CaStatus>,
    /// Root or subordinate.
    pub ca_type: Option<crate::CaType>,
    /// What the caller may see.
    pub visibility: Visibility,
    /// Tag conditions.
    pub tags: TagFilter,
    /// Sort column.
    pub sort_key: CaSortKey,
    /// Direction.
    pub sort_dir: SortDir,
}

/// ListCertificate filters.
#[derive(Debug, Clone, Default)]
pub struct CertFilter {
    /// Substring of the CN.
    pub name: Option<String>,
    /// The status shown.
    pub status: Option<crate::CertStatus>,
    /// Only certificates of this CA.
    pub issuer_id: Option<CaId>,
    /// Only certificates whose validity ends before this (epoch ms).
    pub expires_before: Option<i64>,
    /// Only certificates with this key algorithm.
    pub key_algorithm: Option<openccm_pki::KeyAlgorithm>,
    /// What the caller may see.
    pub visibility: Visibility,
    /// Tag conditions.
    pub tags: TagFilter,
    /// Sort column.
    pub sort_key: CertSortKey,
    /// Direction.
    pub sort_dir: SortDir,
}
