//! Accounts, users, access keys, groups, identity policies, lockout.

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
