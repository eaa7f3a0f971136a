//! Tag bodies that PCA v1 and SCM v3 share field for field (the SDKs name
//! them per service; [`crate::pca`] and [`crate::scm`] re-export them under
//! those names).

use serde::{Deserialize, Serialize};

/// A tag: `ResourceTag` (ccm), `ScsResourceTag` (scm). Also a fuzzy match
/// (`key` = `resource_name`) in PCA's resource-instance queries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResourceTag {
    /// Key.
    #[serde(default)]
    pub key: Option<String>,
    /// Value.
    #[serde(default)]
    pub value: Option<String>,
}

/// A tag key with its values: `DomainTags` (ccm), `ScsTag` (scm).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TagValues {
    /// Key.
    #[serde(default)]
    pub key: Option<String>,
    /// Values.
    #[serde(default)]
    pub values: Option<Vec<String>>,
}

/// One tag to add: `ResourceTagRequestBody` (CreateCaTag, CreateCertTag),
/// `CreateCertificateTagRequestBody` (scm).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TagRequest {
    /// The tag.
    #[serde(default)]
    pub tag: Option<ResourceTag>,
}

/// The tags of one resource: `ListCaTagsResponse`, `ListCertTagsResponse`,
/// `ListTagsByCertificateResponse` (scm).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResourceTagsResponse {
    /// Tags of the resource.
    pub tags: Vec<ResourceTag>,
}

/// The account's tag keys with their values: `ListDomainCaTagsResponse`,
/// `ListDomainCertTagsResponse`, `ListAllTagsResponse` (scm).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TagValuesResponse {
    /// Keys in use, with their values.
    pub tags: Vec<TagValues>,
}
