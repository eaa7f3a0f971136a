//! Records: rows as the application sees them.

use crate::ids::{AccessKeyId, CaId, CertId, DomainId, ProjectId, UserId};

/// An account (IAM domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Id.
    pub domain_id: DomainId,
    /// Unique name, used by password logins.
    pub name: String,
    /// Disabled accounts cannot authenticate.
    pub enabled: bool,
    /// Epoch ms.
    pub created_at: i64,
}

/// An IAM user.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub user_id: UserId,
    /// Account.
    pub domain_id: DomainId,
    /// Name, unique in the account.
    pub name: String,
    /// PHC-format password hash (argon2id); `None` = no password login.
    pub password_hash: Option<String>,
    /// The account's administrator (may do everything in the account).
    pub is_root: bool,
    /// Disabled users cannot authenticate.
    pub enabled: bool,
    /// Bumped whenever a password or key changes: tokens minted under an older
    /// value stop working.
    pub credentials_version: i64,
    /// Epoch ms.
    pub created_at: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("user_id", &self.user_id)
            .field("domain_id", &self.domain_id)
            .field("name", &self.name)
            .field("has_password", &self.password_hash.is_some())
            .field("is_root", &self.is_root)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// An access key; the secret key is sealed under the master keyring with the
/// associated data `b"sk:" || access_key`.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// The AK.
    pub access_key: AccessKeyId,
    /// Owner.
    pub user_id: UserId,
    /// Owner's account.
    pub domain_id: DomainId,
    /// The sealed SK.
    pub sealed_secret: Vec<u8>,
    /// Disabled keys do not authenticate.
    pub enabled: bool,
    /// Free text.
    pub description: String,
    /// Epoch ms.
    pub created_at: i64,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key", &self.access_key)
            .field("user_id", &self.user_id)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// A project of an account (one per region name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Id.
    pub project_id: ProjectId,
    /// Account.
    pub domain_id: DomainId,
    /// Region name.
    pub name: String,
    /// Epoch ms.
    pub created_at: i64,
}

/// Everything the first start writes: the administrator's account, user,
/// access key and default project.
#[derive(Debug, Clone)]
pub struct BootstrapPlan {
    /// The account.
    pub account: Account,
    /// Its administrator.
    pub user: User,
    /// The administrator's access key.
    pub access_key: AccessKey,
    /// The account's project in the configured region.
    pub project: Project,
}

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
    /// Key usages, API names.
    pub key_usages: Vec<String>,
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

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDir {
    /// Ascending.
    Asc,
    /// Descending (the API's default).
    #[default]
    Desc,
}

/// A page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Records to skip.
    pub offset: i64,
    /// Page size.
    pub limit: i64,
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
    /// What the caller may see.
    pub visibility: Visibility,
    /// Tag conditions.
    pub tags: TagFilter,
    /// Sort column.
    pub sort_key: CertSortKey,
    /// Direction.
    pub sort_dir: SortDir,
}

/// What a quota-checked insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Written.
    Inserted,
    /// Refused: the account is at its quota; nothing written.
    QuotaExceeded,
    /// Refused: a serial is taken (retry with fresh serials); nothing written.
    SerialTaken,
}

/// What a conditional update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// Written.
    Updated,
    /// The record is not (any more) in an expected state; nothing written.
    StateChanged,
    /// A serial is taken; nothing written.
    SerialTaken,
}

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

/// Which tags a resource must (not) carry: keys are ANDed, the values of one
/// key ORed; an empty value list means any value.
#[derive(Debug, Clone, Default)]
pub struct TagFilter {
    /// Only resources without any tag (the other fields are then ignored).
    pub without_any_tag: bool,
    /// Has every one of these keys (with one of the values).
    pub all: Vec<(String, Vec<String>)>,
    /// Has at least one of these keys.
    pub any: Vec<(String, Vec<String>)>,
    /// Has none of these.
    pub none: Vec<(String, Vec<String>)>,
    /// Lacks at least one of these.
    pub not_all: Vec<(String, Vec<String>)>,
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
    /// `PERSONAL` | `ENTERPRISE`.
    pub usage: Option<String>,
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

/// A resource that carries tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaggedResource {
    /// An SCM certificate.
    ScmCertificate,
    /// A private CA.
    PcaCa,
    /// A private certificate.
    PcaCertificate,
}

impl TaggedResource {
    /// The `resource_type` column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScmCertificate => "scm-cert",
            Self::PcaCa => "pca-ca",
            Self::PcaCertificate => "pca-cert",
        }
    }
}

/// What a tag write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOutcome {
    /// Written.
    Done,
    /// The resource does not exist (in this account); nothing written.
    NoResource,
    /// The resource would carry more than the allowed tags; nothing written.
    TooMany,
}

/// An IAM user group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Id.
    pub group_id: crate::GroupId,
    /// Account.
    pub domain_id: DomainId,
    /// Name, unique in the account.
    pub name: String,
    /// Description.
    pub description: String,
    /// Epoch ms.
    pub created_at: i64,
}

/// An identity policy as stored: the document is validated before it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    /// Id.
    pub policy_id: crate::PolicyId,
    /// Account.
    pub domain_id: DomainId,
    /// Name, unique in the account.
    pub name: String,
    /// Description.
    pub description: String,
    /// The JSON document.
    pub document: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
}

/// Who a policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A user.
    User(UserId),
    /// A group.
    Group(crate::GroupId),
}

impl Principal {
    /// The `principal_type` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::User(_) => "user",
            Self::Group(_) => "group",
        }
    }

    /// The `principal_id` column.
    pub fn id(&self) -> &str {
        match self {
            Self::User(u) => u.as_str(),
            Self::Group(g) => g.as_str(),
        }
    }
}

/// What a caller may see in a list: the union of `scopes`, minus what the
/// exclusions name. Computed by the application from identity policies,
/// applied by the store in SQL so that pages and totals agree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visibility {
    /// Allowed slices; empty = nothing is visible.
    pub scopes: Vec<Scope>,
    /// Projects no resource may be shown from.
    pub excluded_projects: Vec<String>,
    /// When set, only these projects may be shown.
    pub only_projects: Option<Vec<String>>,
    /// Tags that hide a resource: (key, values; empty = any value).
    pub excluded_tags: Vec<(String, Vec<String>)>,
}

/// One allowed slice: resources in one of `projects` (any, if `None`) that
/// carry every tag of `tags` (with one of its values; any, if empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Projects.
    pub projects: Option<Vec<String>>,
    /// Required tags.
    pub tags: Vec<(String, Vec<String>)>,
}

impl Visibility {
    /// Everything.
    pub fn everything() -> Self {
        Self {
            scopes: vec![Scope::default()],
            ..Self::default()
        }
    }

    /// Whether nothing can be visible.
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }

    /// Whether it shows everything.
    pub fn is_everything(&self) -> bool {
        self.scopes
            .iter()
            .any(|s| s.projects.is_none() && s.tags.is_empty())
            && self.excluded_projects.is_empty()
            && self.only_projects.is_none()
            && self.excluded_tags.is_empty()
    }

    /// Whether a resource of `project` with `tags` is visible.
    pub fn shows(&self, project: &str, tags: &[(String, String)]) -> bool {
        let has = |key: &str, values: &[String]| {
            tags.iter()
                .any(|(k, v)| k == key && (values.is_empty() || values.contains(v)))
        };
        self.scopes.iter().any(|s| {
            s.projects
                .as_ref()
                .is_none_or(|p| p.iter().any(|x| x == project))
                && s.tags.iter().all(|(k, v)| has(k, v))
        }) && !self.excluded_projects.iter().any(|p| p == project)
            && self
                .only_projects
                .as_ref()
                .is_none_or(|p| p.iter().any(|x| x == project))
            && !self.excluded_tags.iter().any(|(k, v)| has(k, v))
    }
}

/// One revoked serial, as CRLs list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationEntry {
    /// Serial (lower-case hex, as reserved).
    pub serial: String,
    /// The CA's revocation sequence number of this entry (commit order).
    pub seq: i64,
    /// Revocation time, epoch ms.
    pub revoked_at: i64,
    /// Revocation reason.
    pub reason: crate::RevocationReason,
    /// The certificate's notAfter, epoch ms.
    pub not_after: i64,
}

/// What the store knows of a serial under an issuing CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialStatus {
    /// The CA never signed a certificate with this serial (or its issuance
    /// failed before anything left the service).
    Unknown,
    /// Issued (or being issued) and not revoked.
    Good,
    /// Revoked.
    Revoked {
        /// Revocation time, epoch ms.
        revoked_at: i64,
        /// Revocation reason.
        reason: crate::RevocationReason,
    },
}

/// When failed logins lock a user out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutRule {
    /// Consecutive failures that lock the user.
    pub max_failures: i64,
    /// Failures count together when they fall within this many ms.
    pub window_ms: i64,
    /// How long the lock lasts, in ms.
    pub lock_ms: i64,
}

/// A user's failed logins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    /// Consecutive failures in the current window (0 right after a lock).
    pub failures: i64,
    /// Epoch ms until which logins are refused (0: never locked).
    pub locked_until: i64,
    /// This failure is the one that locked the user.
    pub newly_locked: bool,
}

/// A CA's CRL counters at one moment: both only grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CrlCounters {
    /// The CRL number handed out (0: none yet).
    pub crl_number: i64,
    /// The seq of the CA's latest revocation (0: none).
    pub revocation_seq: i64,
}

/// A full CRL as stored for every server.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCrl {
    /// Its CRL number.
    pub crl_number: i64,
    /// It lists every revocation up to this seq (unexpired at `this_update`).
    pub revocation_seq: i64,
    /// thisUpdate, epoch ms.
    pub this_update: i64,
    /// nextUpdate, epoch ms.
    pub next_update: i64,
    /// The signed CRL (DER); empty when only the metadata was read.
    pub der: Vec<u8>,
    /// The delta CRL URL it names in freshestCRL, if any.
    pub freshest_url: Option<String>,
}

impl std::fmt::Debug for StoredCrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCrl")
            .field("crl_number", &self.crl_number)
            .field("revocation_seq", &self.revocation_seq)
            .field("this_update", &self.this_update)
            .field("next_update", &self.next_update)
            .field("der_len", &self.der.len())
            .field("freshest_url", &self.freshest_url)
            .finish()
    }
}

/// Something about a CA changed that cached CRLs or OCSP answers may show:
/// a revocation under it, its settings or its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// This CA (by id) changed.
    CaChanged(crate::CaId),
    /// Changes may have been missed (a lost connection to the database):
    /// forget everything cached.
    Resync,
}

/// One audited call. Never holds a secret: ids, names of routes, results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditEvent {
    /// Epoch ms.
    pub at: i64,
    /// The caller's account ('' when the call was refused before authentication).
    pub domain_id: String,
    /// The caller's user ('' likewise).
    pub user_id: String,
    /// The client's address.
    pub source: String,
    /// What was asked: method and route (`POST /v1/private-certificates/{certificate_id}/revoke`).
    pub action: String,
    /// The resource acted on (path parameters, or the id a create returned).
    pub resource_id: String,
    /// The HTTP status, with the error code of a refusal (`403 PCA.90010003`).
    pub result: String,
    /// The request id (`X-Request-Id`).
    pub request_id: String,
}

/// An event in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedAuditEvent {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// The event.
    pub event: AuditEvent,
    /// The master key version the mac was made with.
    pub key_version: u32,
    /// HMAC over the previous event's mac and this event.
    pub mac: Vec<u8>,
}

/// The chain's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// The last event's seq (0: none yet).
    pub seq: i64,
    /// The last event's mac (32 zero bytes: none yet).
    pub mac: Vec<u8>,
}

/// Computes an event's link: (key version, mac) from the previous mac, the
/// event's seq and the event. The store calls it inside the appending
/// transaction; it holds the key, the store does not.
pub type AuditChainer =
    std::sync::Arc<dyn Fn(&[u8], i64, &AuditEvent) -> (u32, Vec<u8>) + Send + Sync>;
