//! Records: rows as the application sees them.

use crate::ids::{AccessKeyId, DomainId, ProjectId, UserId};

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
