//! PCA v1 bodies (pca-v1.md), named as huaweicloudsdkccm's models name them.
//!
//! Request fields are all `Option`: presence rules are the application's to
//! check (the docs require fields the SDK lets callers omit), and a missing
//! field must become a documented 400, not a deserialisation failure.
//! Response structs serialise every documented field, `null` included.

use serde::{Deserialize, Serialize};

pub use crate::tags::{
    ResourceTag, ResourceTagsResponse, TagRequest as ResourceTagRequest, TagValues as DomainTags,
    TagValuesResponse as DomainTagsResponse,
};

/// `DistinguishedName` / `CertDistinguishedName`. Responses carry every
/// field, `null` when the subject has no such attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistinguishedName {
    /// CN.
    #[serde(default)]
    pub common_name: Option<String>,
    /// C.
    #[serde(default)]
    pub country: Option<String>,
    /// ST.
    #[serde(default)]
    pub state: Option<String>,
    /// L.
    #[serde(default)]
    pub locality: Option<String>,
    /// O.
    #[serde(default)]
    pub organization: Option<String>,
    /// OU.
    #[serde(default)]
    pub organizational_unit: Option<String>,
}

/// `Validity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validity {
    /// `YEAR` | `MONTH` | `DAY` | `HOUR`.
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
    /// Number of units.
    #[serde(default)]
    pub value: Option<i64>,
    /// notBefore, epoch ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_from: Option<i64>,
}

/// `CrlConfiguration` (requests).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrlConfiguration {
    /// Publishing on.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// File name.
    #[serde(default)]
    pub crl_name: Option<String>,
    /// Bucket.
    #[serde(default)]
    pub obs_bucket_name: Option<String>,
    /// Period in days, 7–30.
    #[serde(default)]
    pub valid_days: Option<i64>,
}

/// `ListCrlConfiguration` (responses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCrlConfiguration {
    /// Publishing on.
    pub enabled: bool,
    /// File name.
    pub crl_name: Option<String>,
    /// Bucket.
    pub obs_bucket_name: Option<String>,
    /// Period, days.
    pub valid_days: Option<i64>,
    /// The CRL's URL.
    pub crl_dis_point: Option<String>,
}

/// `SubjectAlternativeName`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectAlternativeName {
    /// `DNS` | `IP` | `EMAIL` | `URI`.
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
    /// The name.
    #[serde(default)]
    pub value: Option<String>,
}

/// `ExtendedKeyUsage`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)]
pub struct ExtendedKeyUsage {
    /// serverAuth.
    #[serde(default)]
    pub server_auth: Option<bool>,
    /// clientAuth.
    #[serde(default)]
    pub client_auth: Option<bool>,
    /// codeSigning.
    #[serde(default)]
    pub code_signing: Option<bool>,
    /// emailProtection.
    #[serde(default)]
    pub email_protection: Option<bool>,
    /// timeStamping.
    #[serde(default)]
    pub time_stamping: Option<bool>,
    /// MS smart-card logon.
    #[serde(default)]
    pub smart_card_logon: Option<bool>,
}

/// `CustomizedExtension`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomizedExtension {
    /// Dotted OID.
    #[serde(default)]
    pub object_identifier: Option<String>,
    /// UTF-8 value.
    #[serde(default)]
    pub value: Option<String>,
}

/// `CreateCertificateAuthorityRequestBody`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateCertificateAuthorityRequest {
    /// `ROOT` | `SUBORDINATE`.
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
    /// Subject.
    #[serde(default)]
    pub distinguished_name: Option<DistinguishedName>,
    /// Key algorithm.
    #[serde(default)]
    pub key_algorithm: Option<String>,
    /// Validity.
    #[serde(default)]
    pub validity: Option<Validity>,
    /// Parent (subordinate activated at once).
    #[serde(default)]
    pub issuer_id: Option<String>,
    /// 0–6.
    #[serde(default)]
    pub path_length: Option<i64>,
    /// Hash.
    #[serde(default)]
    pub signature_algorithm: Option<String>,
    /// Key usages.
    #[serde(default)]
    pub key_usages: Option<Vec<String>>,
    /// CRL settings.
    #[serde(default)]
    pub crl_configuration: Option<CrlConfiguration>,
    /// Enterprise project.
    #[serde(default)]
    pub enterprise_project_id: Option<String>,
    /// Cloud billing (prepaid CA id); refused when set.
    #[serde(default)]
    pub ca_id: Option<String>,
    /// Cloud only; refused when set.
    #[serde(default)]
    pub hsm_cluster_info: Option<serde_json::Value>,
}

/// `{"ca_id": ...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaIdResponse {
    /// The CA.
    pub ca_id: String,
}

/// `{"certificate_id": ...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateIdResponse {
    /// The certificate.
    pub certificate_id: String,
}

/// `CertificateAuthorities` / `ShowCertificateAuthorityResponse`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateAuthority {
    /// Id.
    pub ca_id: String,
    /// `ROOT` | `SUBORDINATE`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Status.
    pub status: String,
    /// 0–7.
    pub path_length: i64,
    /// Parent.
    pub issuer_id: Option<String>,
    /// Parent name.
    pub issuer_name: Option<String>,
    /// Key algorithm.
    pub key_algorithm: String,
    /// Hash.
    pub signature_algorithm: Option<String>,
    /// 0.
    pub freeze_flag: i64,
    /// `GENERATE` | `IMPORT` | `CSR`.
    pub gen_mode: String,
    /// Serial.
    pub serial_number: Option<String>,
    /// Epoch ms.
    pub create_time: i64,
    /// Epoch ms or null.
    pub delete_time: Option<i64>,
    /// Epoch ms.
    pub not_before: Option<i64>,
    /// Epoch ms.
    pub not_after: Option<i64>,
    /// Subject.
    pub distinguished_name: DistinguishedName,
    /// CRL settings.
    pub crl_configuration: ListCrlConfiguration,
    /// Enterprise project.
    pub enterprise_project_id: String,
    /// Free certificate quota (cloud billing).
    pub free_quota: i64,
    /// 1 = pay-per-use.
    pub charging_mode: i64,
    /// Dedicated HSM cluster (none self-hosted).
    pub cluster_id: Option<String>,
    /// Owner account.
    pub domain_id: String,
}

/// `ListCertificateAuthorityResponse`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListCertificateAuthorityResponse {
    /// All matches.
    pub total: i64,
    /// The page.
    pub certificate_authorities: Vec<CertificateAuthority>,
}

/// `IssueCertificateAuthorityCertificateRequestBody` (activate).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActivateCertificateAuthorityRequest {
    /// Parent.
    #[serde(default)]
    pub issuer_id: Option<String>,
    /// 0–6.
    #[serde(default)]
    pub path_length: Option<i64>,
    /// Hash.
    #[serde(default)]
    pub signature_algorithm: Option<String>,
    /// Validity.
    #[serde(default)]
    pub validity: Option<Validity>,
    /// Key usages.
    #[serde(default)]
    pub key_usages: Option<Vec<String>>,
    /// CRL settings.
    #[serde(default)]
    pub crl_configuration: Option<CrlConfiguration>,
}

/// `ExportCertificateAuthorityCsrResponse`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CsrResponse {
    /// PEM, CRLF.
    pub csr: String,
}

/// `ImportCertificateAuthorityCertificateRequestBody`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImportCertificateAuthorityCertificateRequest {
    /// PEM.
    #[serde(default)]
    pub certificate: Option<String>,
    /// PEM chain above it.
    #[serde(default)]
    pub certificate_chain: Option<String>,
}

/// `ExportCertificateAuthorityCertificateResponse`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaCertificateResponse {
    /// PEM, CRLF.
    pub certificate: String,
    /// PEM chain, CRLF.
    pub certificate_chain: String,
}

/// `RevokeCertificateRequestBody`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RevokeRequest {
    /// RFC 5280 reason name.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `EnableCertificateAuthorityCrlRequestBody`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EnableCrlRequest {
    /// File name.
    #[serde(default)]
    pub crl_name: Option<String>,
    /// Bucket.
    #[serde(default)]
    pub obs_bucket_name: Option<String>,
    /// 7–30.
    #[serde(default)]
    pub valid_days: Option<i64>,
}

/// `UpdateOcspSwitchRequestBody`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OcspSwitchRequest {
    /// On or off.
    #[serde(default)]
    pub ocsp_switch: Option<bool>,
}

/// `CreateCertificateRequestBody`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateCertificateRequest {
    /// Issuing CA.
    #[serde(default)]
    pub issuer_id: Option<String>,
    /// Key algorithm (default: the issuer's).
    #[serde(default)]
    pub key_algorithm: Option<String>,
    /// Hash (default: the issuer's).
    #[serde(default)]
    pub signature_algorithm: Option<String>,
    /// Subject.
    #[serde(default)]
    pub distinguished_name: Option<DistinguishedName>,
    /// Validity.
    #[serde(default)]
    pub validity: Option<Validity>,
    /// Key usages.
    #[serde(default)]
    pub key_usages: Option<Vec<String>>,
    /// SANs.
    #[serde(default)]
    pub subject_alternative_names: Option<Vec<SubjectAlternativeName>>,
    /// EKUs.
    #[serde(default)]
    pub extended_key_usage: Option<ExtendedKeyUsage>,
    /// Custom extension.
    #[serde(default)]
    pub customized_extension: Option<CustomizedExtension>,
    /// Enterprise project.
    #[serde(default)]
    pub enterprise_project_id: Option<String>,
}

/// `CreateCertificateByCsrRequestBody`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateCertificateByCsrRequest {
    /// Issuing CA.
    #[serde(default)]
    pub issuer_id: Option<String>,
    /// PEM CSR.
    #[serde(default)]
    pub csr: Option<String>,
    /// Validity.
    #[serde(default)]
    pub validity: Option<Validity>,
    /// `ENTITY_CERT` | `INTERMEDIATE_CA`.
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
    /// For `INTERMEDIATE_CA`.
    #[serde(default)]
    pub path_length: Option<i64>,
    /// Reserved, ignored.
    #[serde(default)]
    pub subject_alternative_names: Option<Vec<SubjectAlternativeName>>,
    /// Enterprise project.
    #[serde(default)]
    pub enterprise_project_id: Option<String>,
}

/// `EncCertInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncCertInfo {
    /// Serial of the SM2 encryption certificate.
    pub enc_serial_number: String,
}

/// `Certificates` / `ShowCertificateResponse` (seed 003).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Certificate {
    /// Id.
    pub certificate_id: String,
    /// `ISSUED` | `EXPIRED` | `REVOKED`.
    pub status: String,
    /// Issuing CA.
    pub issuer_id: String,
    /// Issuing CA name.
    pub issuer_name: String,
    /// Key algorithm.
    pub key_algorithm: String,
    /// Hash.
    pub signature_algorithm: String,
    /// 0.
    pub freeze_flag: i64,
    /// `GENERATE` | `IMPORT` | `CSR`.
    pub gen_mode: String,
    /// Serial.
    pub serial_number: String,
    /// Epoch ms.
    pub create_time: i64,
    /// Epoch ms or null.
    pub delete_time: Option<i64>,
    /// Epoch ms.
    pub not_before: i64,
    /// Epoch ms.
    pub not_after: i64,
    /// Subject.
    pub distinguished_name: DistinguishedName,
    /// SM2 dual certificate, or null.
    pub enc_cert_info: Option<EncCertInfo>,
    /// Enterprise project.
    pub enterprise_project_id: String,
}

/// `ListCertificateResponse`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListCertificateResponse {
    /// All matches.
    pub total: i64,
    /// The page.
    pub certificates: Vec<Certificate>,
}

/// `ExportCertificateRequestBody` (`is_compressed`/`is_sm_standard` are JSON strings).
#[derive(Clone, Default, Deserialize)]
pub struct ExportCertificateRequest {
    /// `"true"` | `"false"`.
    #[serde(default)]
    pub is_compressed: Option<serde_json::Value>,
    /// `APACHE` | `NGINX` | `IIS` | `TOMCAT` | `OTHER`.
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
    /// `"true"` | `"false"`.
    #[serde(default)]
    pub is_sm_standard: Option<serde_json::Value>,
    /// ≤ 32 bytes.
    #[serde(default)]
    pub password: Option<String>,
}

impl std::fmt::Debug for ExportCertificateRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material and passwords never reach a log through `{:?}`.
        f.debug_struct("ExportCertificateRequest")
            .field("type_", &self.type_)
            .finish_non_exhaustive()
    }
}

/// `ExportCertificateResponse`: fields that do not apply are omitted.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct ExportCertificateResponse {
    /// PEM private key (signing key for SM2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// PEM certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// PEM chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_chain: Option<String>,
    /// SM2 encryption certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc_certificate: Option<String>,
    /// SM2 encryption private key (PEM, or the envelope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc_private_key: Option<String>,
    /// GM/T 0009 envelope, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc_sm2_enveloped_key: Option<String>,
    /// GM/T 0010 signed and enveloped data, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_and_enveloped_data: Option<String>,
}

impl std::fmt::Debug for ExportCertificateResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material and passwords never reach a log through `{:?}`.
        f.debug_struct("ExportCertificateResponse")
            .finish_non_exhaustive()
    }
}

/// `ParseCertificateSigningRequestRequestBody`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ParseCsrRequest {
    /// PEM.
    #[serde(default)]
    pub csr: Option<String>,
}

/// `ParseCertificateSigningRequestResponse`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParseCsrResponse {
    /// `RSA` | `EC` | `SM2`.
    pub key_algorithm: String,
    /// Bits.
    pub key_algorithm_length: i64,
    /// e.g. `SHA256withRSA`.
    pub signature_algorithm: String,
    /// PEM public key, CRLF.
    pub public_key: String,
    /// Subject.
    pub distinguished_name: DistinguishedName,
}

/// `ShowCertificateAuthorityQuota` / `ShowCertificateQuota` response.
#[derive(Debug, Serialize, Deserialize)]
pub struct QuotaResponse {
    /// The quota object.
    pub quotas: Quotas,
}

/// `Quotas`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Quotas {
    /// One entry per resource type.
    pub resources: Vec<QuotaResource>,
}

/// `Resources`.
#[derive(Debug, Serialize, Deserialize)]
pub struct QuotaResource {
    /// `CERTIFICATE_AUTHORITY` or `CERTIFICATE`.
    #[serde(rename = "type")]
    pub type_: String,
    /// In use.
    pub used: i64,
    /// The limit.
    pub quota: i64,
}

/// `ShowConsoleConfigResponse`.
#[derive(Debug, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)]
pub struct ConsoleConfig {
    /// Enterprise projects.
    pub is_support_eps: bool,
    /// SM2.
    pub is_support_sm2: bool,
    /// Dedicated HSM.
    pub is_support_dhsm: bool,
    /// Regions with dedicated HSM.
    pub dhsm_regions: Vec<String>,
    /// Prepaid CAs.
    pub is_support_yearly_monthly_ca: bool,
    /// IAM identity policies.
    pub is_support_iam5: bool,
    /// OCSP.
    pub is_support_ocsp: bool,
}

/// `BatchOperateTagRequestBody` (batch create and delete).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BatchOperateTagRequest {
    /// The tags.
    #[serde(default)]
    pub tags: Option<Vec<ResourceTag>>,
}

/// `ListResourceInstancesRequestBody` (filter and count).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListResourceInstancesRequest {
    /// Tag conditions.
    #[serde(default)]
    pub tags: Option<Vec<DomainTags>>,
    /// Page size.
    #[serde(default)]
    pub limit: Option<i64>,
    /// Offset.
    #[serde(default)]
    pub offset: Option<i64>,
    /// Fuzzy matches.
    #[serde(default)]
    pub matches: Option<Vec<ResourceTag>>,
}

/// `TagResource`: a resource a tag query found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TagResource {
    /// CA or certificate id.
    pub resource_id: String,
    /// The resource as ShowCertificateAuthority / ShowCertificate show it.
    pub resource_detail: serde_json::Value,
    /// Its tags.
    pub tags: Vec<ResourceTag>,
    /// Its common name.
    pub resource_name: String,
}

/// `ListCaResourceInstancesResponse`, `ListCertResourceInstancesResponse`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceInstancesResponse {
    /// Matches.
    pub total_count: i64,
    /// The page.
    pub resources: Vec<TagResource>,
}

/// `CountCaResourceInstancesResponse`, `CountCertResourceInstancesResponse`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceCountResponse {
    /// Matches.
    pub total_count: i64,
}

/// The API's names of a CA's statuses (`status` of a CA, and its filter).
pub mod ca_status {
    /// Created, not yet signed.
    pub const PENDING: &str = "PENDING";
    /// Active (the API's spelling).
    pub const ACTIVED: &str = "ACTIVED";
    /// Active but past its notAfter.
    pub const EXPIRED: &str = "EXPIRED";
    /// Disabled.
    pub const DISABLED: &str = "DISABLED";
    /// Scheduled for deletion.
    pub const DELETED: &str = "DELETED";
    /// Revoked.
    pub const REVOKED: &str = "REVOKED";
}

/// The API's names of a certificate's statuses.
pub mod cert_status {
    /// Issued and valid.
    pub const ISSUED: &str = "ISSUED";
    /// Past its notAfter.
    pub const EXPIRED: &str = "EXPIRED";
    /// Revoked.
    pub const REVOKED: &str = "REVOKED";
}

/// The API's names of CA types.
pub mod ca_type {
    /// A root CA.
    pub const ROOT: &str = "ROOT";
    /// A subordinate CA.
    pub const SUBORDINATE: &str = "SUBORDINATE";
}

/// The API's names of where a key pair came from (`gen_mode`).
pub mod gen_mode {
    /// Generated by the service.
    pub const GENERATE: &str = "GENERATE";
    /// The customer's, sent as a CSR.
    pub const CSR: &str = "CSR";
}

/// ListCertificateAuthority's `sort_key` values.
pub mod ca_sort_key {
    /// Creation time (the default).
    pub const CREATE_TIME: &str = "create_time";
    /// Common name.
    pub const COMMON_NAME: &str = "common_name";
    /// CA type.
    pub const TYPE: &str = "type";
    /// Expiry.
    pub const NOT_AFTER: &str = "not_after";
}

/// ListCertificate's `sort_key` values.
pub mod cert_sort_key {
    /// Creation time (the default).
    pub const CREATE_TIME: &str = "create_time";
    /// Common name.
    pub const COMMON_NAME: &str = "common_name";
    /// The issuing CA's common name.
    pub const ISSUER_NAME: &str = "issuer_name";
    /// Expiry.
    pub const NOT_AFTER: &str = "not_after";
}

/// `sort_dir` values (PCA and SCM lists).
pub mod sort_dir {
    /// Ascending.
    pub const ASC: &str = "ASC";
    /// Descending (the default).
    pub const DESC: &str = "DESC";
}

/// Revocation reasons (RevokeCertificate, RevokeCertificateAuthority).
pub mod revocation_reason {
    /// No reason given (the default).
    pub const UNSPECIFIED: &str = "UNSPECIFIED";
    /// keyCompromise.
    pub const KEY_COMPROMISE: &str = "KEY_COMPROMISE";
    /// cACompromise.
    pub const CERTIFICATE_AUTHORITY_COMPROMISE: &str = "CERTIFICATE_AUTHORITY_COMPROMISE";
    /// affiliationChanged.
    pub const AFFILIATION_CHANGED: &str = "AFFILIATION_CHANGED";
    /// superseded.
    pub const SUPERSEDED: &str = "SUPERSEDED";
    /// cessationOfOperation.
    pub const CESSATION_OF_OPERATION: &str = "CESSATION_OF_OPERATION";
    /// certificateHold.
    pub const CERTIFICATE_HOLD: &str = "CERTIFICATE_HOLD";
    /// privilegeWithdrawn.
    pub const PRIVILEGE_WITHDRAWN: &str = "PRIVILEGE_WITHDRAWN";
    /// aACompromise.
    pub const ATTRIBUTE_AUTHORITY_COMPROMISE: &str = "ATTRIBUTE_AUTHORITY_COMPROMISE";
}

/// Key algorithms (`key_algorithm`).
pub mod key_algorithm {
    /// RSA, 2048 bits.
    pub const RSA2048: &str = "RSA2048";
    /// RSA, 3072 bits.
    pub const RSA3072: &str = "RSA3072";
    /// RSA, 4096 bits.
    pub const RSA4096: &str = "RSA4096";
    /// ECDSA, P-256.
    pub const EC256: &str = "EC256";
    /// ECDSA, P-384.
    pub const EC384: &str = "EC384";
    /// SM2.
    pub const SM2: &str = "SM2";
}

/// Signature hashes (`signature_algorithm`).
pub mod signature_algorithm {
    /// SHA-256.
    pub const SHA256: &str = "SHA256";
    /// SHA-384.
    pub const SHA384: &str = "SHA384";
    /// SHA-512.
    pub const SHA512: &str = "SHA512";
    /// SM3 (with SM2 keys).
    pub const SM3: &str = "SM3";
}

/// Validity units (`validity.type`).
pub mod validity_type {
    /// Years.
    pub const YEAR: &str = "YEAR";
    /// Months.
    pub const MONTH: &str = "MONTH";
    /// Days.
    pub const DAY: &str = "DAY";
    /// Hours.
    pub const HOUR: &str = "HOUR";
}

/// Alternative-name types (`subject_alternative_names[].type`).
pub mod alt_name_type {
    /// A DNS name.
    pub const DNS: &str = "DNS";
    /// An IP address.
    pub const IP: &str = "IP";
    /// An email address.
    pub const EMAIL: &str = "EMAIL";
    /// A URI.
    pub const URI: &str = "URI";
}

/// Export archive layouts (ExportCertificate `type`).
pub mod export_type {
    /// Apache.
    pub const APACHE: &str = "APACHE";
    /// nginx.
    pub const NGINX: &str = "NGINX";
    /// IIS.
    pub const IIS: &str = "IIS";
    /// Tomcat.
    pub const TOMCAT: &str = "TOMCAT";
    /// PEM files.
    pub const OTHER: &str = "OTHER";
}

/// The API's booleans sent as text (`is_compressed`, `is_sm_standard`).
pub mod flag {
    /// Yes.
    pub const TRUE: &str = "true";
    /// No.
    pub const FALSE: &str = "false";
}
