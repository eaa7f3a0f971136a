//! PCA v1 bodies (pca-v1.md).

use serde::{Deserialize, Serialize};

/// `ShowCertificateAuthorityQuota` / `ShowCertificateQuota` response.
#[derive(Debug, Serialize, Deserialize)]
pub struct QuotaResponse {
    /// The quota object.
    pub quotas: Quotas,
}

/// `quotas`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Quotas {
    /// One entry per resource type.
    pub resources: Vec<QuotaResource>,
}

/// One quota entry.
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
