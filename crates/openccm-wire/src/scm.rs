//! SCM v3 bodies (scm-v3.md, seed 000), named as huaweicloudsdkscm's models
//! name them.
//!
//! Request fields are all `Option` (presence is the application's rule to
//! check, with a documented 4xx). Responses serialise every documented field,
//! `null` where it does not apply, except ExportCertificate, whose optional
//! fields are left out as seed 000's example does.

use serde::{Deserialize, Serialize};

pub use crate::tags::{
    ResourceTag, ResourceTagsResponse, TagRequest as CreateTagRequest, TagValues as Tag,
    TagValuesResponse as AllTagsResponse,
};

/// `ImportCertificateRequestBody`.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ImportCertificateRequest {
    /// 3–63 chars.
    #[serde(default)]
    pub name: Option<String>,
    /// The certificate (PEM), optionally followed by its chain.
    #[serde(default)]
    pub certificate: Option<String>,
    /// The chain (PEM).
    #[serde(default)]
    pub certificate_chain: Option<String>,
    /// The private key (PEM).
    #[serde(default)]
    pub private_key: Option<String>,
    /// Refuse a certificate already stored.
    #[serde(default)]
    pub duplicate_check: Option<bool>,
    /// Enterprise project.
    #[serde(default)]
    pub enterprise_project_id: Option<String>,
    /// SM dual certificate: the encryption certificate.
    #[serde(default)]
    pub enc_certificate: Option<String>,
    /// SM dual certificate: the encryption private key.
    #[serde(default)]
    pub enc_private_key: Option<String>,
}

impl std::fmt::Debug for ImportCertificateRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material and passwords never reach a log through `{:?}`.
        f.debug_struct("ImportCertificateRequest")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `ImportCertificateResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportCertificateResponse {
    /// The new id.
    pub certificate_id: String,
}

/// `CertificateDetail` (list entries).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CertificateDetail {
    /// `scs` + 13 digits.
    pub id: String,
    /// Name.
    pub name: String,
    /// Primary domain.
    pub domain: String,
    /// Additional domains.
    pub sans: String,
    /// Signature algorithm.
    pub signature_algorithm: String,
    /// Deployable to other cloud services.
    pub deploy_support: bool,
    /// Commercial type (`null` for imported certificates).
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Commercial brand (`null` for imported certificates).
    pub brand: Option<String>,
    /// Expiry.
    pub expire_time: String,
    /// `SINGLE_DOMAIN` | `WILDCARD` | `MULTI_DOMAIN`.
    pub domain_type: String,
    /// Validity in months.
    pub validity_period: i64,
    /// `UPLOAD` | `EXPIRED`.
    pub status: String,
    /// Bindable domains.
    pub domain_count: i64,
    /// Bindable wildcard domains.
    pub wildcard_count: i64,
    /// Description.
    pub description: Option<String>,
    /// Owner account.
    pub domain_id: String,
    /// Enterprise project.
    pub enterprise_project_id: String,
}

/// `ListCertificatesResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListCertificatesResponse {
    /// The page.
    pub certificates: Vec<CertificateDetail>,
    /// Matches (at most 10000).
    pub total_count: i64,
}

/// `ShowCertificateResponseBodyApplicationInfo`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApplicationInfo {
    /// Country.
    pub country: Option<String>,
    /// Company.
    pub company_name: Option<String>,
    /// Province.
    pub company_province: Option<String>,
    /// City.
    pub company_city: Option<String>,
    /// Applicant.
    pub applicant_name: Option<String>,
    /// Applicant phone.
    pub applicant_phone: Option<String>,
    /// Applicant e-mail.
    pub applicant_email: Option<String>,
    /// Technical contact.
    pub contact_name: Option<String>,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// Contact e-mail.
    pub contact_email: Option<String>,
}

/// `Authentification` (sic).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Authentification {
    /// Record name.
    pub record_name: String,
    /// Record type.
    pub record_type: String,
    /// Record value.
    pub record_value: String,
    /// Domain.
    pub domain: String,
}

/// `ShowCertificateResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShowCertificateResponse {
    /// Id.
    pub id: String,
    /// `UPLOAD` | `EXPIRED`.
    pub status: String,
    /// Order (`null` for imported certificates).
    pub order_id: Option<String>,
    /// Name.
    pub name: String,
    /// Commercial type.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Commercial brand.
    pub brand: Option<String>,
    /// `ON` | `OFF`.
    pub push_support: String,
    /// Revocation reason.
    pub revoke_reason: Option<String>,
    /// Signature algorithm.
    pub signature_algorithm: Option<String>,
    /// Issue time.
    pub issue_time: Option<String>,
    /// Validity start.
    pub not_before: Option<String>,
    /// Validity end.
    pub not_after: Option<String>,
    /// Months.
    pub validity_period: i64,
    /// `DNS` | `FILE` | `EMAIL` (purchases only).
    pub validation_method: Option<String>,
    /// `SINGLE_DOMAIN` | `WILDCARD` | `MULTI_DOMAIN`.
    pub domain_type: String,
    /// `primary_single` | `primary_wildcard` (purchases only).
    pub multi_domain_type: Option<String>,
    /// Primary domain.
    pub domain: String,
    /// Additional domains.
    pub sans: String,
    /// Bindable domains.
    pub domain_count: i64,
    /// Bindable wildcard domains.
    pub wildcard_count: i64,
    /// SHA-1 fingerprint, lower-case hex.
    pub fingerprint: String,
    /// Shared to the caller.
    pub shared: bool,
    /// Applicant data (purchases only).
    pub application_info: Option<ApplicationInfo>,
    /// Description.
    pub description: Option<String>,
    /// Enterprise project.
    pub enterprise_project_id: String,
    /// Domain validation records (purchases only).
    pub authentification: Vec<Authentification>,
}

/// `ExportCertificateResponse` (seed 000).
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ScmExportCertificateResponse)]
pub struct ExportCertificateResponse {
    /// Certificate followed by its chain, 1–12288.
    pub entire_certificate: String,
    /// The certificate alone, 1–4096.
    pub certificate: String,
    /// The chain, 1–8192; left out when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_chain: Option<String>,
    /// The private key (the signing key of SM certificates), 1–4096.
    pub private_key: String,
    /// SM certificates only: the encryption certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_certificate: Option<String>,
    /// SM certificates only: the encryption private key, plain or enveloped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_private_key: Option<String>,
}

impl std::fmt::Debug for ExportCertificateResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material and passwords never reach a log through `{:?}`.
        f.debug_struct("ExportCertificateResponse")
            .finish_non_exhaustive()
    }
}

/// `BatchCreateOrDeleteTagsRequestBody`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct BatchTagsRequest {
    /// `create` | `delete`.
    #[serde(default)]
    pub action: Option<String>,
    /// 1–20 tags.
    #[serde(default)]
    pub tags: Option<Vec<ResourceTag>>,
}

/// `{"desc": "success"}`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DescResponse {
    /// Result text.
    pub desc: String,
}

/// `ScsMatch`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct Match {
    /// Field (`resource_name`).
    #[serde(default)]
    pub key: Option<String>,
    /// Value.
    #[serde(default)]
    pub value: Option<String>,
}

/// `ListCertificatesByTagRequestBody`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ResourceInstancesRequest {
    /// Only untagged resources.
    #[serde(default)]
    pub without_any_tag: Option<bool>,
    /// All these keys, any listed value.
    #[serde(default)]
    pub tags: Option<Vec<Tag>>,
    /// Any of these keys.
    #[serde(default)]
    pub tags_any: Option<Vec<Tag>>,
    /// None of these.
    #[serde(default)]
    pub not_tags: Option<Vec<Tag>>,
    /// Lacks at least one of these.
    #[serde(default)]
    pub not_tags_any: Option<Vec<Tag>>,
    /// Page size.
    #[serde(default)]
    pub limit: Option<i64>,
    /// Offset.
    #[serde(default)]
    pub offset: Option<i64>,
    /// `filter` | `count`.
    #[serde(default)]
    pub action: Option<String>,
    /// Fuzzy matches.
    #[serde(default)]
    pub matches: Option<Vec<Match>>,
}

/// `TagResourceResourceDetail`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TagResourceDetail {
    /// Id.
    pub cert_id: String,
    /// Name.
    pub cert_name: String,
    /// Primary domain.
    pub domain: String,
    /// Commercial type.
    pub cert_type: Option<String>,
    /// Commercial brand.
    pub cert_brand: Option<String>,
    /// `SINGLE_DOMAIN` | `MULTI_DOMAIN` | `WILDCARD`.
    pub domain_type: String,
    /// Years.
    pub purchase_period: Option<i64>,
    /// Expiry, epoch ms as a string.
    pub expired_time: String,
    /// Status.
    pub order_status: String,
    /// Domains.
    pub domain_num: i64,
    /// Wildcard domains.
    pub wildcard_number: i64,
    /// Additional domains.
    pub sans: String,
    /// Description.
    pub cert_des: Option<String>,
    /// Signature algorithm.
    pub signature_algorithm: String,
    /// Failure reason.
    pub fail_reason: Option<String>,
    /// Order serial number.
    pub partner_order_id: Option<String>,
    /// Can be pushed.
    pub push_support: bool,
    /// Issue time, epoch ms as a string.
    pub cert_issued_time: String,
    /// Resource id.
    pub resource_id: String,
    /// Can be unsubscribed.
    pub unsubscribe_support: bool,
    /// Enterprise project.
    pub enterprise_project_id: String,
    /// Original certificate (renewals).
    pub origin_cert_id: Option<String>,
    /// Renewal certificate.
    pub renewal_cert_id: Option<String>,
    /// Auto-renew state.
    pub auto_renew_status: Option<i64>,
    /// Remaining certificates of an order.
    pub remain_cert_number: Option<i64>,
    /// Auto-deploy.
    pub auto_deploy_support: bool,
}

/// `TagResource`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ScmTagResource)]
pub struct TagResource {
    /// Certificate id.
    pub resource_id: String,
    /// Its tags.
    pub tags: Vec<ResourceTag>,
    /// Name.
    pub resource_name: String,
    /// Summary.
    pub resource_detail: TagResourceDetail,
}

/// `ListCertificatesByTagResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ScmResourceInstancesResponse)]
pub struct ResourceInstancesResponse {
    /// Matches.
    pub total_count: i64,
    /// The page (left out for `count`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<TagResource>>,
}

/// `CreateCsrRequestBody`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CreateCsrRequest {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// CN.
    #[serde(default)]
    pub domain_name: Option<String>,
    /// Additional domains.
    #[serde(default)]
    pub sans: Option<String>,
    /// `RSA_2048` | `RSA_3072` | `RSA_4096` | `EC_P256` | `EC_P384` | `SM2`.
    #[serde(default)]
    pub private_key_algo: Option<String>,
    /// `PERSONAL` | `ENTERPRISE`.
    #[serde(default)]
    pub usage: Option<String>,
    /// C.
    #[serde(default)]
    pub company_country: Option<String>,
    /// ST.
    #[serde(default)]
    pub company_province: Option<String>,
    /// L.
    #[serde(default)]
    pub company_city: Option<String>,
    /// O.
    #[serde(default)]
    pub company_name: Option<String>,
}

/// `CSRResponseBody` (also ShowCsr's and UpdateCsr's response).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Csr {
    /// 32 hex chars.
    pub id: String,
    /// Name.
    pub name: String,
    /// PKCS#10 PEM.
    pub csr: String,
    /// CN.
    pub domain_name: Option<String>,
    /// Additional domains.
    pub sans: Option<String>,
    /// Key algorithm.
    pub private_key_algo: String,
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
    /// Epoch ms.
    pub create_time: i64,
    /// Epoch ms.
    pub update_time: i64,
}

/// `CreateCsrResponse`: the CSR's fields without the PEM (ShowCsr has it).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreateCsrResponse {
    /// 32 hex chars.
    pub id: String,
    /// Name.
    pub name: String,
    /// CN.
    pub domain_name: Option<String>,
    /// Additional domains.
    pub sans: Option<String>,
    /// Key algorithm.
    pub private_key_algo: String,
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
    /// Epoch ms.
    pub create_time: i64,
    /// Epoch ms.
    pub update_time: i64,
}

/// `UploadCsrRequestBody`.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct UploadCsrRequest {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// PEM CSR.
    #[serde(default)]
    pub csr: Option<String>,
    /// Its private key (PEM), optional.
    #[serde(default)]
    pub private_key: Option<String>,
}

impl std::fmt::Debug for UploadCsrRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material and passwords never reach a log through `{:?}`.
        f.debug_struct("UploadCsrRequest")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `UploadCsrResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadCsrResponse {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Epoch ms.
    pub create_time: i64,
}

/// `ListCsrResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListCsrResponse {
    /// The page.
    pub csr_list: Vec<Csr>,
    /// Matches.
    pub total: i64,
}

/// `UpdateCSRRequestBody`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct UpdateCsrRequest {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
}

/// `ShowCsrPrivateKeyResponse`.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CsrPrivateKeyResponse {
    /// PEM.
    pub private_key: String,
}

impl std::fmt::Debug for CsrPrivateKeyResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material and passwords never reach a log through `{:?}`.
        f.debug_struct("CsrPrivateKeyResponse")
            .finish_non_exhaustive()
    }
}

/// `NoticeRequestBody`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NoticeRequest {
    /// Certificate id.
    #[serde(default)]
    pub resource_id: Option<String>,
    /// `CERT_EXPIRING` | `CERT_EXPIRED`.
    #[serde(default)]
    pub notice_type: Option<Vec<String>>,
}

/// ListCertificates' `sort_key` values.
pub mod sort_key {
    /// Last update (the default).
    pub const CERT_UPDATE_TIME: &str = "certUpdateTime";
    /// Expiry.
    pub const CERT_EXPIRED_TIME: &str = "certExpiredTime";
    /// Status.
    pub const CERT_STATUS: &str = "certStatus";
}

/// Certificate statuses the API documents. An imported certificate is only
/// ever `UPLOAD` or `EXPIRED`; the others belong to the cloud's purchase
/// flow, and a list filtered by one of them is empty.
pub mod cert_status {
    /// Imported, unexpired.
    pub const UPLOAD: &str = "UPLOAD";
    /// Past its notAfter.
    pub const EXPIRED: &str = "EXPIRED";
    /// Every status (a list filter only).
    pub const ALL: &str = "ALL";
    /// The purchase flow's statuses.
    pub const PURCHASE_FLOW: [&str; 12] = [
        "PAID",
        "ISSUED",
        "CHECKING",
        "CANCELCHECKING",
        "UNPASSED",
        "REVOKING",
        "CANCLEREVOKING",
        "REVOKED",
        "SUPPLEMENTCHECKING",
        "CANCELSUPPLEMENTING",
        "CHECKING_ORG",
        "ISSUING",
    ];
}

/// What separates the names of a `sans` field.
pub const SANS_SEPARATOR: &str = ";";

/// CSR key algorithms (`private_key_algo`).
pub mod private_key_algo {
    /// RSA, 2048 bits.
    pub const RSA_2048: &str = "RSA_2048";
    /// RSA, 3072 bits.
    pub const RSA_3072: &str = "RSA_3072";
    /// RSA, 4096 bits.
    pub const RSA_4096: &str = "RSA_4096";
    /// ECDSA, P-256.
    pub const EC_P256: &str = "EC_P256";
    /// ECDSA, P-384.
    pub const EC_P384: &str = "EC_P384";
    /// SM2.
    pub const SM2: &str = "SM2";
}

/// Whom a CSR's subject names (`usage`).
pub mod csr_usage {
    /// A person.
    pub const PERSONAL: &str = "PERSONAL";
    /// An organisation.
    pub const ENTERPRISE: &str = "ENTERPRISE";
}
