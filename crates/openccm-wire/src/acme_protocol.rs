//! ACME protocol bodies (RFC 8555 §7, RFC 9773): the JSON of the payloads
//! clients sign and of the objects the server answers. Unknown members are
//! ignored, as RFC 8555 §7.1 asks of servers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// newAccount payload (§7.3).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAccountPayload {
    /// `mailto:` URLs.
    #[serde(default)]
    pub contact: Option<Vec<String>>,
    /// Only look up the key's account.
    #[serde(default)]
    pub only_return_existing: Option<bool>,
    /// The EAB JWS.
    #[serde(default)]
    pub external_account_binding: Option<Value>,
}

/// Account update payload (§7.3.2, §7.3.6).
#[derive(Debug, Default, Deserialize)]
pub struct AccountUpdatePayload {
    /// New contacts.
    #[serde(default)]
    pub contact: Option<Vec<String>>,
    /// `deactivated`.
    #[serde(default)]
    pub status: Option<String>,
}

/// An identifier (§9.7.7).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identifier {
    /// `dns` or `ip`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The name or address.
    pub value: String,
}

/// newOrder payload (§7.4, RFC 9773 §5).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrderPayload {
    /// What to certify.
    #[serde(default)]
    pub identifiers: Vec<Identifier>,
    /// RFC 3339.
    #[serde(default)]
    pub not_before: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub not_after: Option<String>,
    /// The ARI id of the certificate this replaces.
    #[serde(default)]
    pub replaces: Option<String>,
}

/// Authorization update payload (§7.5.2).
#[derive(Debug, Default, Deserialize)]
pub struct AuthzUpdatePayload {
    /// `deactivated`.
    #[serde(default)]
    pub status: Option<String>,
}

/// finalize payload (§7.4).
#[derive(Debug, Deserialize)]
pub struct FinalizePayload {
    /// base64url DER CSR.
    pub csr: String,
}

/// revokeCert payload (§7.6).
#[derive(Debug, Deserialize)]
pub struct RevokePayload {
    /// base64url DER certificate.
    pub certificate: String,
    /// RFC 5280 reason code.
    #[serde(default)]
    pub reason: Option<u8>,
}

/// The directory (§7.1.1).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryBody {
    /// URLs.
    pub new_nonce: String,
    /// URLs.
    pub new_account: String,
    /// URLs.
    pub new_order: String,
    /// URLs.
    pub revoke_cert: String,
    /// URLs.
    pub key_change: String,
    /// RFC 9773.
    pub renewal_info: String,
    /// Metadata.
    pub meta: DirectoryMeta,
}

/// Directory metadata.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryMeta {
    /// Whether newAccount needs an EAB.
    pub external_account_required: bool,
}

/// An account object (§7.1.2).
#[derive(Debug, Serialize)]
pub struct AccountBody {
    /// `valid`, `deactivated`, `revoked`.
    pub status: String,
    /// Contacts.
    pub contact: Vec<String>,
    /// The account's order list URL.
    pub orders: String,
    /// The account's key.
    pub key: Value,
}

/// An order object (§7.1.3).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderBody {
    /// Status.
    pub status: String,
    /// RFC 3339.
    pub expires: String,
    /// What it certifies.
    pub identifiers: Vec<Identifier>,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// Why it is invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ProblemBody>,
    /// Authorization URLs.
    pub authorizations: Vec<String>,
    /// Finalize URL.
    pub finalize: String,
    /// Certificate URL, once issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// RFC 9773.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// An account's order list (§7.1.2.1).
#[derive(Debug, Serialize)]
pub struct OrdersBody {
    /// Order URLs.
    pub orders: Vec<String>,
}

/// An authorization object (§7.1.4).
#[derive(Debug, Serialize)]
pub struct AuthzBody {
    /// Status.
    pub status: String,
    /// RFC 3339.
    pub expires: String,
    /// The identifier (a wildcard's without `*.`).
    pub identifier: Identifier,
    /// Challenges.
    pub challenges: Vec<ChallengeBody>,
    /// Whether the order asked for `*.`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub wildcard: bool,
}

/// A challenge object (§7.1.5, §8).
#[derive(Debug, Serialize)]
pub struct ChallengeBody {
    /// `http-01`, `dns-01`, `tls-alpn-01`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its URL.
    pub url: String,
    /// Status.
    pub status: String,
    /// The token.
    pub token: String,
    /// RFC 3339, once valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validated: Option<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ProblemBody>,
}

/// A problem document (RFC 7807, RFC 8555 §6.7).
#[derive(Debug, Clone, Serialize)]
pub struct ProblemBody {
    /// The type URN.
    #[serde(rename = "type")]
    pub kind: String,
    /// What went wrong.
    pub detail: String,
    /// The HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Per identifier.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subproblems: Vec<SubproblemBody>,
    /// The algorithms accepted (`badSignatureAlgorithm`, §6.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithms: Option<Vec<String>>,
}

/// One identifier's problem.
#[derive(Debug, Clone, Serialize)]
pub struct SubproblemBody {
    /// The type URN.
    #[serde(rename = "type")]
    pub kind: String,
    /// What went wrong.
    pub detail: String,
    /// The identifier.
    pub identifier: Identifier,
}

/// renewalInfo (RFC 9773 §4.2).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewalInfoBody {
    /// When to renew.
    pub suggested_window: Window,
}

/// A time window.
#[derive(Debug, Serialize)]
pub struct Window {
    /// RFC 3339.
    pub start: String,
    /// RFC 3339.
    pub end: String,
}
