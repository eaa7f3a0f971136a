//! ACME management bodies: a CA's ACME settings and its external account
//! binding keys (OpenCCM's extension, docs/api/acme.md).

use serde::{Deserialize, Serialize};

/// `PUT .../{ca_id}/acme`. Fields are `Option`: the application says what
/// is missing.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct AcmeConfigRequest {
    /// ACME on or off.
    #[serde(default)]
    #[schema(required, value_type = bool)]
    pub enabled: Option<bool>,
    /// New ACME accounts must present an EAB key (default true).
    #[serde(default)]
    pub eab_required: Option<bool>,
    /// DNS names (`*.name`: any name below), IP addresses and CIDR ranges
    /// that may be ordered; empty or absent: any. At most 100.
    #[serde(default)]
    pub allowed_identifiers: Option<Vec<String>>,
    /// `http-01`, `dns-01`, `tls-alpn-01` (default all three).
    #[serde(default)]
    pub challenges: Option<Vec<String>>,
    /// The longest validity of an ACME certificate, 1–3650 days (default
    /// 90), never beyond the CA's own.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub max_validity_days: Option<i64>,
    /// CSR key types accepted: `EC256`, `EC384`, `RSA2048`, `RSA3072`,
    /// `RSA4096` (default all five).
    #[serde(default)]
    pub key_algorithms: Option<Vec<String>>,
}

/// A CA's ACME settings, defaults filled in.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AcmeConfig {
    /// ACME on or off.
    pub enabled: bool,
    /// New ACME accounts must present an EAB key.
    pub eab_required: bool,
    /// What may be ordered (empty: any identifier).
    pub allowed_identifiers: Vec<String>,
    /// The challenge types offered.
    pub challenges: Vec<String>,
    /// The longest validity of an ACME certificate, in days.
    pub max_validity_days: i64,
    /// CSR key types accepted.
    pub key_algorithms: Vec<String>,
    /// `<public-url>/acme/<ca_id>/directory`, while enabled.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub directory_url: Option<String>,
}

/// `{"acme": ...}`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AcmeConfigResponse {
    /// The settings.
    pub acme: AcmeConfig,
}

/// `POST .../{ca_id}/acme/eab-keys`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CreateEabKeyRequest {
    /// What the key is for, at most 255 characters.
    #[serde(default)]
    #[schema(max_length = 255)]
    pub description: Option<String>,
}

/// A new EAB key, with its HMAC key (shown only here).
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EabKeyCreated {
    /// The key's id: the `kid` of the binding JWS.
    pub key_id: String,
    /// 32 random bytes, base64url without padding.
    pub hmac_key: String,
    /// The description given.
    pub description: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
}

impl std::fmt::Debug for EabKeyCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The HMAC key never reaches a log through `{:?}`.
        f.debug_struct("EabKeyCreated")
            .field("key_id", &self.key_id)
            .field("description", &self.description)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// An EAB key as listed (never its HMAC key).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EabKeySummary {
    /// The key's id.
    pub key_id: String,
    /// The description given.
    pub description: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
    /// Whether an ACME account was made with it.
    pub bound: bool,
}

/// `{"eab_keys": [...]}`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EabKeyList {
    /// The CA's keys, oldest first.
    pub eab_keys: Vec<EabKeySummary>,
}
