//! SCM: imported certificates and CSRs.

use super::{SortDir, TagFilter, Visibility};
use crate::ids::DomainId;

/// An SSL certificate held by SCM: the PEM text exactly as imported, and its
/// private keys sealed (in the PEM form they were imported in).
#[derive(Clone)]
pub struct ScmCertRecord {
    /// `scs` + 13 digits.
    pub certificate_id: crate::ScmCertId,
    /// Owner account.
    pub domain_id: DomainId,
    /// Enterprise project.
    pub enterprise_project_id: String,
    /// 3–63 chars.
    pub name: String,
    /// Primary domain: the CN, or the first DNS SAN.
    pub domain: String,
    /// The other DNS and IP alternative names, in certificate order.
    pub alt_names: Vec<String>,
    /// The certificate key's algorithm.
    pub key_algorithm: openccm_pki::KeyAlgorithm,
    /// e.g. `SHA256WITHRSA`.
    pub signature_algorithm: String,
    /// SHA-1 of the leaf DER, lower-case hex.
    pub fingerprint: String,
    /// Lower-case hex serial.
    pub serial_number: String,
    /// notBefore, epoch ms.
    pub not_before: i64,
    /// notAfter, epoch ms.
    pub not_after: i64,
    /// The leaf, PEM as imported.
    pub certificate: String,
    /// The chain, PEM as imported.
    pub certificate_chain: Option<String>,
    /// Owner name the private key is sealed under.
    pub key_owner: String,
    /// The sealed private key PEM.
    pub sealed_key: Vec<u8>,
    /// SM dual certificates: the encryption certificate, PEM as imported.
    pub enc_certificate: Option<String>,
    /// Owner name the encryption key is sealed under.
    pub enc_key_owner: Option<String>,
    /// The sealed encryption key (PEM, or the envelope as given).
    pub enc_sealed_key: Option<Vec<u8>>,
    /// Whether the encryption key is kept as an SM2 envelope.
    pub enc_key_enveloped: bool,
    /// The SCM CSR whose key this certificate uses, if any.
    pub csr_id: Option<crate::CsrId>,
    /// Epoch ms.
    pub create_time: i64,
    /// Epoch ms.
    pub update_time: i64,
}

impl std::fmt::Debug for ScmCertRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScmCertRecord")
            .field("certificate_id", &self.certificate_id)
            .field("domain_id", &self.domain_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// How SCM certificate lists are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScmSortKey {
    /// `certUpdateTime` (the default).
    #[default]
    UpdateTime,
    /// `certExpiredTime`.
    ExpiredTime,
    /// `certStatus`.
    Status,
}

/// SCM certificate list filters.
#[derive(Debug, Clone, Default)]
pub struct ScmCertFilter {
    /// `Some(false)`: only unexpired (`UPLOAD`); `Some(true)`: only expired;
    /// `None`: both.
    pub expired: Option<bool>,
    /// Matches nothing (a status no imported certificate can have).
    pub nothing: bool,
    /// Only these enterprise projects (`None`: all).
    pub projects: Option<Vec<String>>,
    /// Substring of the name or the domain (case-insensitive).
    pub content: Option<String>,
    /// Substring of the name (case-insensitive).
    pub name: Option<String>,
    /// Only certificates whose notAfter is at or after this (epoch ms).
    pub not_after_from: Option<i64>,
    /// Tag conditions.
    pub tags: TagFilter,
    /// What the caller may see (`None`: everything).
    pub visibility: Option<Visibility>,
    /// Sort column.
    pub sort_key: ScmSortKey,
    /// Direction.
    pub sort_dir: SortDir,
}

/// What inserting an SCM certificate did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScmInsertOutcome {
    /// Written.
    Inserted,
    /// Refused: the account holds this certificate already (duplicate check).
    Duplicate,
    /// Refused: the id is taken (retry with another); nothing written.
    IdTaken,
}

/// A CSR managed by SCM, with its key when the service generated it (or the
/// customer uploaded it).
#[derive(Clone)]
pub struct CsrRecord {
    /// 32 hex chars.
    pub csr_id: crate::CsrId,
    /// Owner account.
    pub domain_id: DomainId,
    /// Name.
    pub name: String,
    /// PKCS#10 PEM.
    pub csr: String,
    /// CN.
    pub domain_name: Option<String>,
    /// Additional domains and addresses, in request order.
    pub alt_names: Vec<String>,
    /// The key's algorithm.
    pub key_algorithm: openccm_pki::KeyAlgorithm,
    /// Whom the subject names.
    pub usage: Option<crate::CsrUsage>,
    /// C.
    pub company_country: Option<String>,
    /// ST.
    pub company_province: Option<String>,
    /// L.
    pub company_city: Option<String>,
    /// O.
    pub company_name: Option<String>,
    /// SubjectPublicKeyInfo DER.
    pub public_key: Vec<u8>,
    /// SHA-256 of `public_key`, lower-case hex (the lookup key on import).
    pub public_key_sha256: String,
    /// Whether the service generated the key pair (CreateCsr).
    pub generated: bool,
    /// Owner name the key is sealed under.
    pub key_owner: Option<String>,
    /// The sealed private key: PKCS#8 of a generated key, or the PEM as uploaded.
    pub sealed_key: Option<Vec<u8>>,
    /// Epoch ms.
    pub create_time: i64,
    /// Epoch ms.
    pub update_time: i64,
}

impl std::fmt::Debug for CsrRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrRecord")
            .field("csr_id", &self.csr_id)
            .field("domain_id", &self.domain_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// CSR list filters.
#[derive(Debug, Clone, Default)]
pub struct CsrFilter {
    /// Substring of the name.
    pub name: Option<String>,
    /// Key algorithm.
    pub key_algorithm: Option<openccm_pki::KeyAlgorithm>,
}
