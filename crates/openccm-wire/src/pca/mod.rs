//! PCA v1 bodies (pca-v1.md), named as huaweicloudsdkccm's models name them.
//!
//! Request fields are all `Option`: presence rules are the application's to
//! check (the docs require fields the SDK lets callers omit), and a missing
//! field must become a documented 400, not a deserialisation failure.
//! Response structs serialise every documented field, `null` included.
//! What the API requires of a request is said to its clients by the
//! `#[schema(...)]` attributes, which the OpenAPI description carries.

use serde::{Deserialize, Serialize};

mod names;
pub use names::*;

pub use crate::tags::{
    ResourceTag, ResourceTagsResponse, TagRequest as ResourceTagRequest, TagValues as DomainTags,
    TagValuesResponse as DomainTagsResponse,
};

/// `DistinguishedName` / `CertDistinguishedName`. Responses carry every
/// field, `null` when the subject has no such attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DistinguishedName {
    /// CN.
    #[serde(default)]
    // Required (present, maybe null) in answers; a request without it is refused.
    #[schema(required)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Validity {
    /// `YEAR` | `MONTH` | `DAY` | `HOUR`.
    #[serde(rename = "type", default)]
    #[schema(required, value_type = String, pattern = "^(YEAR|MONTH|DAY|HOUR)$")]
    pub type_: Option<String>,
    /// Number of units.
    #[serde(default)]
    #[schema(required, value_type = i64, minimum = 1)]
    pub value: Option<i64>,
    /// notBefore, epoch ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_from: Option<i64>,
}

/// `CrlConfiguration` (requests).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubjectAlternativeName {
    /// `DNS` | `IP` | `EMAIL` | `URI`.
    #[serde(rename = "type", default)]
    #[schema(required, value_type = String, pattern = "^(DNS|IP|EMAIL|URI)$")]
    pub type_: Option<String>,
    /// The name.
    #[serde(default)]
    #[schema(required, value_type = String)]
    pub value: Option<String>,
}

/// `ExtendedKeyUsage`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomizedExtension {
    /// Dotted OID.
    #[serde(default)]
    pub object_identifier: Option<String>,
    /// UTF-8 value.
    #[serde(default)]
    pub value: Option<String>,
}

/// `CreateCertificateAuthorityRequestBody`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CreateCertificateAuthorityRequest {
    /// `ROOT` | `SUBORDINATE`.
    #[serde(rename = "type", default)]
    #[schema(required, value_type = String, pattern = "^(ROOT|SUBORDINATE)$")]
    pub type_: Option<String>,
    /// Subject.
    #[serde(default)]
    #[schema(required, value_type = DistinguishedName)]
    pub distinguished_name: Option<DistinguishedName>,
    /// Key algorithm.
    #[serde(default)]
    #[schema(required, value_type = String, pattern = "^(RSA2048|RSA3072|RSA4096|EC256|EC384|SM2)$")]
    pub key_algorithm: Option<String>,
    /// Validity.
    #[serde(default)]
    #[schema(required, value_type = Validity)]
    pub validity: Option<Validity>,
    /// Parent (subordinate activated at once).
    #[serde(default)]
    pub issuer_id: Option<String>,
    /// 0–6.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 6)]
    pub path_length: Option<i64>,
    /// Hash.
    #[serde(default)]
    #[schema(pattern = "^(SHA256|SHA384|SHA512|SM3)$")]
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
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaIdResponse {
    /// The CA.
    pub ca_id: String,
}

/// `{"certificate_id": ...}`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CertificateIdResponse {
    /// The certificate.
    pub certificate_id: String,
}

/// `CertificateAuthorities` / `ShowCertificateAuthorityResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListCertificateAuthorityResponse {
    /// All matches.
    pub total: i64,
    /// The page.
    pub certificate_authorities: Vec<CertificateAuthority>,
}

/// `IssueCertificateAuthorityCertificateRequestBody` (activate).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CsrResponse {
    /// PEM, CRLF.
    pub csr: String,
}

/// `ImportCertificateAuthorityCertificateRequestBody`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ImportCertificateAuthorityCertificateRequest {
    /// PEM.
    #[serde(default)]
    pub certificate: Option<String>,
    /// PEM chain above it.
    #[serde(default)]
    pub certificate_chain: Option<String>,
}

/// `ExportCertificateAuthorityCertificateResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaCertificateResponse {
    /// PEM, CRLF.
    pub certificate: String,
    /// PEM chain, CRLF.
    pub certificate_chain: String,
}

/// `RevokeCertificateRequestBody`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RevokeRequest {
    /// RFC 5280 reason name (default `UNSPECIFIED`).
    #[serde(default)]
    #[schema(
        pattern = "^(UNSPECIFIED|KEY_COMPROMISE|CERTIFICATE_AUTHORITY_COMPROMISE|AFFILIATION_CHANGED|SUPERSEDED|CESSATION_OF_OPERATION|CERTIFICATE_HOLD|PRIVILEGE_WITHDRAWN|ATTRIBUTE_AUTHORITY_COMPROMISE)$"
    )]
    pub reason: Option<String>,
}

/// `EnableCertificateAuthorityCrlRequestBody`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OcspSwitchRequest {
    /// On or off.
    #[serde(default)]
    pub ocsp_switch: Option<bool>,
}

/// `CreateCertificateRequestBody`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CreateCertificateRequest {
    /// Issuing CA.
    #[serde(default)]
    #[schema(required, value_type = String)]
    pub issuer_id: Option<String>,
    /// Key algorithm (default: the issuer's).
    #[serde(default)]
    #[schema(pattern = "^(RSA2048|RSA3072|RSA4096|EC256|EC384|SM2)$")]
    pub key_algorithm: Option<String>,
    /// Hash (default: the issuer's).
    #[serde(default)]
    #[schema(pattern = "^(SHA256|SHA384|SHA512|SM3)$")]
    pub signature_algorithm: Option<String>,
    /// Subject.
    #[serde(default)]
    #[schema(required, value_type = DistinguishedName)]
    pub distinguished_name: Option<DistinguishedName>,
    /// Validity.
    #[serde(default)]
    #[schema(required, value_type = Validity)]
    pub validity: Option<Validity>,
    /// Key usages.
    #[serde(default)]
    pub key_usages: Option<Vec<String>>,
    /// SANs, at most 20. (Not `max_items` in the description: schemathesis
    /// 4.32's coverage phase fails intermittently drawing a full list of
    /// patterned objects.)
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
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CreateCertificateByCsrRequest {
    /// Issuing CA.
    #[serde(default)]
    #[schema(required, value_type = String)]
    pub issuer_id: Option<String>,
    /// PEM CSR.
    #[serde(default)]
    #[schema(required, value_type = String)]
    pub csr: Option<String>,
    /// Validity.
    #[serde(default)]
    pub validity: Option<Validity>,
    /// `ENTITY_CERT` | `INTERMEDIATE_CA`.
    #[serde(rename = "type", default)]
    #[schema(pattern = "^(ENTITY_CERT|INTERMEDIATE_CA)$")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EncCertInfo {
    /// Serial of the SM2 encryption certificate.
    pub enc_serial_number: String,
}

/// `Certificates` / `ShowCertificateResponse` (seed 003).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListCertificateResponse {
    /// All matches.
    pub total: i64,
    /// The page.
    pub certificates: Vec<Certificate>,
}

/// `ExportCertificateRequestBody` (`is_compressed`/`is_sm_standard` are JSON strings).
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ExportCertificateRequest {
    /// `"true"` | `"false"`.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(true|false)$")]
    pub is_compressed: Option<serde_json::Value>,
    /// `APACHE` | `NGINX` | `IIS` | `TOMCAT` | `OTHER`.
    #[serde(rename = "type", default)]
    #[schema(required, value_type = String, pattern = "^(APACHE|NGINX|IIS|TOMCAT|OTHER)$")]
    pub type_: Option<String>,
    /// `"true"` | `"false"`.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(true|false)$")]
    pub is_sm_standard: Option<serde_json::Value>,
    /// ≤ 32 bytes.
    #[serde(default)]
    #[schema(max_length = 32)]
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
#[derive(Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ParseCsrRequest {
    /// PEM.
    #[serde(default)]
    pub csr: Option<String>,
}

/// `ParseCertificateSigningRequestResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuotaResponse {
    /// The quota object.
    pub quotas: Quotas,
}

/// `Quotas`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Quotas {
    /// One entry per resource type.
    pub resources: Vec<QuotaResource>,
}

/// `Resources`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct BatchOperateTagRequest {
    /// The tags.
    #[serde(default)]
    pub tags: Option<Vec<ResourceTag>>,
}

/// `ListResourceInstancesRequestBody` (filter and count).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResourceInstancesResponse {
    /// Matches.
    pub total_count: i64,
    /// The page.
    pub resources: Vec<TagResource>,
}

/// `CountCaResourceInstancesResponse`, `CountCertResourceInstancesResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResourceCountResponse {
    /// Matches.
    pub total_count: i64,
}
