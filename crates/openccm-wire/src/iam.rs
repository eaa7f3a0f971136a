//! The IAM subset the SDKs and curl clients need (iam-auth.md §§ 4–5).

use serde::{Deserialize, Serialize};

/// `POST /v3/auth/tokens` request body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// The `auth` object.
    pub auth: TokenAuth,
}

/// `auth` of a token request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenAuth {
    /// How the caller proves who it is.
    pub identity: Identity,
    /// Domain or project scope; OpenCCM tokens are always scoped to the user's domain.
    #[serde(default)]
    pub scope: Option<serde_json::Value>,
}

/// `auth.identity`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Identity {
    /// `["password"]`, or `["hw_ak_sk"]` for a request signed with AK/SK.
    pub methods: Vec<String>,
    /// Present for the password method.
    #[serde(default)]
    pub password: Option<PasswordIdentity>,
    /// The token method (a new token from a token, or temporary credentials).
    #[serde(default)]
    pub token: Option<TokenIdentity>,
    /// A policy narrowing temporary credentials (refused: not supported).
    #[serde(default)]
    pub policy: Option<serde_json::Value>,
}

/// `auth.identity.token`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct TokenIdentity {
    /// The token; `X-Auth-Token` is used when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Lifetime of temporary credentials, in seconds (900–86400).
    #[serde(default)]
    pub duration_seconds: Option<i64>,
}

impl std::fmt::Debug for TokenIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A token is a credential: it never reaches a log through `{:?}`.
        f.debug_struct("TokenIdentity")
            .field("duration_seconds", &self.duration_seconds)
            .finish_non_exhaustive()
    }
}

/// `auth.identity.password`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordIdentity {
    /// The IAM user.
    pub user: PasswordUser,
}

/// `auth.identity.password.user`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordUser {
    /// IAM user name (or `id`).
    #[serde(default)]
    pub name: Option<String>,
    /// IAM user id, accepted instead of the name.
    #[serde(default)]
    pub id: Option<String>,
    /// The password. Never logged: this struct has no `Display` and callers must not `Debug` it.
    pub password: String,
    /// The account the user belongs to (by name or id); required with `name`.
    #[serde(default)]
    pub domain: Option<NameOrId>,
}

impl std::fmt::Debug for PasswordUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material and passwords never reach a log through `{:?}`.
        f.debug_struct("PasswordUser")
            .field("name", &self.name)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// `{"name": ...}` or `{"id": ...}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NameOrId {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// `POST /v3/auth/tokens` response body (`201`, token in `X-Subject-Token`).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// The token's description.
    pub token: TokenBody,
}

/// `token` of a token response.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenBody {
    /// ISO 8601 UTC with microseconds.
    pub expires_at: String,
    /// ISO 8601 UTC with microseconds.
    pub issued_at: String,
    /// Authentication methods used.
    pub methods: Vec<String>,
    /// The user the token stands for.
    pub user: TokenUser,
    /// The domain (always present: project-scoped tokens carry it too).
    pub domain: DomainRef,
    /// The project, for project-scoped tokens.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub project: Option<ProjectRef>,
    /// Roles; OpenCCM reports the account administrator as `te_admin`.
    pub roles: Vec<Role>,
    /// Service catalogue; omitted with `nocatalog`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub catalog: Option<Vec<serde_json::Value>>,
}

/// `token.user`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenUser {
    /// User id.
    pub id: String,
    /// User name.
    pub name: String,
    /// Always empty: OpenCCM passwords do not expire.
    pub password_expires_at: String,
    /// The user's account.
    pub domain: DomainRef,
}

/// `{"id", "name"}` of a domain.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DomainRef {
    /// Account id, 32 hex chars.
    pub id: String,
    /// Account name.
    pub name: String,
}

/// `token.project`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProjectRef {
    /// Project id.
    pub id: String,
    /// Region name.
    pub name: String,
    /// The project's account.
    pub domain: DomainRef,
}

/// A role in a token.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Role {
    /// Role id.
    pub id: String,
    /// Role name.
    pub name: String,
}

/// `GET /v3/auth/domains` response.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DomainList {
    /// The caller's own account (exactly one).
    pub domains: Vec<Domain>,
    /// `{"self": ...}`.
    pub links: Links,
}

/// One account in `GET /v3/auth/domains`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Domain {
    /// Account id.
    pub id: String,
    /// Account name.
    pub name: String,
    /// Always true for an account that can authenticate.
    pub enabled: bool,
    /// Free text.
    pub description: String,
    /// `{"self": ...}`.
    pub links: Links,
}

/// Keystone `links`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Links {
    /// This resource.
    #[serde(rename = "self")]
    pub self_: String,
    /// Previous page (project lists only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub previous: Option<Option<String>>,
    /// Next page (project lists only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next: Option<Option<String>>,
}

/// `GET /v3/projects` response.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProjectList {
    /// Matching projects.
    pub projects: Vec<Project>,
    /// `{"self", "previous", "next"}`.
    pub links: Links,
}

/// One project.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Project {
    /// Project id, 32 hex chars.
    pub id: String,
    /// Region name.
    pub name: String,
    /// Owning account.
    pub domain_id: String,
    /// Always true.
    pub enabled: bool,
    /// Always false.
    pub is_domain: bool,
    /// The account id (projects hang off the account).
    pub parent_id: String,
    /// Free text.
    pub description: String,
    /// `{"self": ...}`.
    pub links: Links,
}

/// Keystone-style error body used by IAM's own token endpoints.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeystoneErrorBody {
    /// The error.
    pub error: KeystoneError,
}

/// `error` of a Keystone error body.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeystoneError {
    /// HTTP status.
    pub code: u16,
    /// `Unauthorized`, `Bad Request`, ...
    pub title: String,
    /// Human-readable message.
    pub message: String,
}

// ---- administration (the account administrator's API) ---------------------

/// `{"user": {...}}` of CreateUser / UpdateUser.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct UserRequest {
    /// The user.
    #[serde(default)]
    pub user: Option<UserFields>,
}

/// The settable fields of a user.
#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct UserFields {
    /// Name (create only).
    #[serde(default)]
    pub name: Option<String>,
    /// Password.
    #[serde(default)]
    pub password: Option<String>,
    /// Enabled.
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl std::fmt::Debug for UserFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material and passwords never reach a log through `{:?}`.
        f.debug_struct("UserFields")
            .field("name", &self.name)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// A user as the administration API shows it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserInfo {
    /// 32 hex chars.
    pub id: String,
    /// Name.
    pub name: String,
    /// Account.
    pub domain_id: String,
    /// Enabled.
    pub enabled: bool,
    /// The account administrator.
    pub is_root_user: bool,
    /// Whether the user can log in with a password.
    pub pwd_status: bool,
    /// ISO 8601.
    pub create_time: String,
}

/// `{"user": {...}}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserResponse {
    /// The user.
    pub user: UserInfo,
}

/// `{"users": [...]}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserList {
    /// Users.
    pub users: Vec<UserInfo>,
}

/// `{"credential": {...}}` of CreateCredential / UpdateCredential.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CredentialRequest {
    /// The key.
    #[serde(default)]
    pub credential: Option<CredentialFields>,
}

/// Settable fields of an access key.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CredentialFields {
    /// Owner (create only).
    #[serde(default)]
    pub user_id: Option<String>,
    /// `active` | `inactive` (update only).
    #[serde(default)]
    pub status: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// An access key; `secret` only in the response that creates it.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Credential {
    /// AK.
    pub access: String,
    /// SK, shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// `active` | `inactive`.
    pub status: String,
    /// Owner.
    pub user_id: String,
    /// Description.
    pub description: String,
    /// ISO 8601.
    pub create_time: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material and passwords never reach a log through `{:?}`.
        f.debug_struct("Credential")
            .field("access", &self.access)
            .field("status", &self.status)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// `{"credential": {...}}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CredentialResponse {
    /// The key.
    pub credential: Credential,
}

/// Temporary credentials (`POST /v3.0/OS-CREDENTIAL/securitytokens`).
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct TemporaryCredential {
    /// ISO 8601 expiry of the AK/SK and the security token.
    pub expires_at: String,
    /// Temporary AK.
    pub access: String,
    /// Temporary SK.
    pub secret: String,
    /// `X-Security-Token`.
    pub securitytoken: String,
}

impl std::fmt::Debug for TemporaryCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material never reaches a log through `{:?}`.
        f.debug_struct("TemporaryCredential")
            .field("access", &self.access)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// `{"credential": {...}}` of temporary credentials.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TemporaryCredentialResponse {
    /// The credentials.
    pub credential: TemporaryCredential,
}

/// `{"credentials": [...]}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CredentialList {
    /// Keys (no secrets).
    pub credentials: Vec<Credential>,
}

/// `{"group": {...}}` of CreateGroup.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct GroupRequest {
    /// The group.
    #[serde(default)]
    pub group: Option<GroupFields>,
}

/// Settable fields of a group.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct GroupFields {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A group.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupInfo {
    /// 32 hex chars.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Account.
    pub domain_id: String,
    /// ISO 8601.
    pub create_time: String,
}

/// `{"group": {...}}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupResponse {
    /// The group.
    pub group: GroupInfo,
}

/// `{"groups": [...]}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupList {
    /// Groups.
    pub groups: Vec<GroupInfo>,
}

/// CreatePolicy (IAM v5 style): the document is a JSON string.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct PolicyRequest {
    /// Name.
    #[serde(default)]
    pub policy_name: Option<String>,
    /// The document (JSON text).
    #[serde(default)]
    pub policy_document: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A policy.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyInfo {
    /// 32 hex chars.
    pub policy_id: String,
    /// Name.
    pub policy_name: String,
    /// Description.
    pub description: String,
    /// Always `v1`: documents are not versioned yet.
    pub default_version_id: String,
    /// The document (ShowPolicy only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_document: Option<String>,
    /// ISO 8601.
    pub created_at: String,
    /// ISO 8601.
    pub updated_at: String,
}

/// `{"policy": {...}}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyResponse {
    /// The policy.
    pub policy: PolicyInfo,
}

/// `{"policies": [...]}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyList {
    /// Policies.
    pub policies: Vec<PolicyInfo>,
}

/// `{"user_id": ...}` or `{"group_id": ...}` of attach/detach.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct AttachRequest {
    /// A user.
    #[serde(default)]
    pub user_id: Option<String>,
    /// A group.
    #[serde(default)]
    pub group_id: Option<String>,
}
