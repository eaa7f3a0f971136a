//! IAM administration: accounts (deployment operators, through the CLI),
//! and, for an account's administrator, its users, access keys, groups and
//! identity policies. Only the account administrator may call the account
//! operations; every change that affects authentication or authorisation
//! drops the cached state it invalidates.

use openccm_store::{
    AccessKey, AccessKeyId, Account, BootstrapPlan, DomainId, Group, GroupId, PolicyId,
    PolicyRecord, Principal, Project, ProjectId, User, UserId,
};
use zeroize::Zeroizing;

use super::bootstrap::{generate_access_key, seal_secret_key, BootstrapCredentials};
use super::policy::Policy;
use super::{password, Caller, Iam};
use crate::common::random_bytes;
use crate::error::{Error, Result};

/// Access keys one user may hold (as on Huawei Cloud).
pub const MAX_ACCESS_KEYS_PER_USER: i64 = 2;

/// A new access key: the SK is shown once, here.
pub struct NewAccessKey {
    /// The stored key.
    pub key: AccessKey,
    /// The secret key.
    pub secret_key: Zeroizing<String>,
}

impl std::fmt::Debug for NewAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccessKey")
            .field("access_key", &self.key.access_key)
            .finish_non_exhaustive()
    }
}

fn check_name(name: &str, what: &str) -> Result<()> {
    let n = name.chars().count();
    if !(1..=64).contains(&n)
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.'))
        || name.starts_with(' ')
        || name.ends_with(' ')
    {
        return Err(Error::invalid(format!(
            "a {what} name is 1 to 64 letters, digits, spaces, _ - or ."
        )));
    }
    Ok(())
}

/// A password: 8–128 characters of at least two kinds (lower, upper,
/// digit, other).
pub fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    let kinds = [
        password.chars().any(char::is_lowercase),
        password.chars().any(char::is_uppercase),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|k| **k)
    .count();
    if !(8..=128).contains(&n) || kinds < 2 {
        return Err(Error::invalid(
            "a password is 8 to 128 characters of at least two kinds (lower case, upper case, digits, others)",
        ));
    }
    Ok(())
}

fn require_admin(caller: &Caller) -> Result<()> {
    if caller.is_root {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "Only the account administrator manages users, access keys, groups and policies."
                .to_owned(),
        ))
    }
}

/// Temporary credentials (and tokens minted with them) create no lasting
/// credential: a leaked temporary key must not outlive its expiry by making
/// a user, a password or an access key (or enabling one).
fn require_lasting(caller: &Caller) -> Result<()> {
    if caller.binding.temporary {
        Err(Error::Forbidden(
            "Temporary credentials cannot create users, passwords or access keys.".to_owned(),
        ))
    } else {
        Ok(())
    }
}

fn conflict(what: &str) -> impl Fn(Error) -> Error + '_ {
    move |e| match e {
        Error::Conflict(_) => Error::Conflict(format!("a {what} with this name exists already")),
        other => other,
    }
}

fn not_found(what: &str) -> Error {
    Error::NotFound(format!("The {what} does not exist."))
}

impl Iam {
    /// An argon2id hash of `password`, within the argon2 cap.
    pub(crate) async fn hash_password(&self, password: &str) -> Result<String> {
        let pw = Zeroizing::new(password.to_owned());
        self.argon2(move || password::hash(&pw))
            .await?
            .map_err(Error::Internal)
    }

    /// Creates an account with its administrator (a random password), an
    /// access key and a project: what a deployment operator does for a new
    /// tenant. The credentials are returned once.
    pub async fn create_account(&self, name: &str) -> Result<BootstrapCredentials> {
        check_name(name, "account")?;
        let now = self.clock.now_ms();
        let domain_id = DomainId::from_random(random_bytes());
        let user_id = UserId::from_random(random_bytes());
        let project_id = ProjectId::from_random(random_bytes());
        let (access_key, secret_key) = generate_access_key();
        let login = Zeroizing::new(super::bootstrap::random_password());
        let password_hash = self.hash_password(&login).await?;
        let credentials = BootstrapCredentials {
            domain_id: domain_id.to_string(),
            domain_name: name.to_owned(),
            user_name: name.to_owned(),
            password: login,
            access_key: access_key.to_string(),
            secret_key: secret_key.clone(),
            project_id: project_id.to_string(),
            region: self.settings.region.clone(),
        };
        let plan = BootstrapPlan {
            account: Account {
                domain_id: domain_id.clone(),
                name: name.to_owned(),
                enabled: true,
                created_at: now,
            },
            user: User {
                user_id: user_id.clone(),
                domain_id: domain_id.clone(),
                name: name.to_owned(),
                password_hash: Some(password_hash),
                is_root: true,
                enabled: true,
                credentials_version: 0,
                created_at: now,
            },
            access_key: AccessKey {
                sealed_secret: seal_secret_key(&self.keyring, &access_key, &secret_key),
                access_key,
                user_id,
                domain_id: domain_id.clone(),
                enabled: true,
                description: "account administrator".to_owned(),
                created_at: now,
            },
            project: Project {
                project_id,
                domain_id,
                name: self.settings.region.clone(),
                created_at: now,
            },
        };
        self.store
            .create_account(&plan)
            .await
            .map_err(|e| conflict("account")(e.into()))?;
        Ok(credentials)
    }

    /// Every account of the deployment.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        Ok(self.store.accounts().await?)
    }

    /// The caller's account by name (for the CLI).
    pub async fn account_named(&self, name: &str) -> Result<Account> {
        self.store
            .account_by_name(name)
            .await?
            .ok_or_else(|| not_found("account"))
    }

    /// Creates an IAM user (denied everything until a policy allows it).
    pub async fn create_user(
        &self,
        caller: &Caller,
        name: &str,
        password: Option<&str>,
        enabled: bool,
    ) -> Result<User> {
        require_admin(caller)?;
        require_lasting(caller)?;
        check_name(name, "user")?;
        let password_hash = match password {
            Some(p) => {
                check_password(p)?;
                Some(self.hash_password(p).await?)
            }
            None => None,
        };
        let user = User {
            user_id: UserId::from_random(random_bytes()),
            domain_id: caller.domain_id.clone(),
            name: name.to_owned(),
            password_hash,
            is_root: false,
            enabled,
            credentials_version: 0,
            created_at: self.clock.now_ms(),
        };
        self.store
            .create_user(&user)
            .await
            .map_err(|e| conflict("user")(e.into()))?;
        Ok(user)
    }

    /// The account's users.
    pub async fn list_users(&self, caller: &Caller) -> Result<Vec<User>> {
        require_admin(caller)?;
        Ok(self.store.users(&caller.domain_id).await?)
    }

    /// One user of the account.
    pub async fn show_user(&self, caller: &Caller, id: &UserId) -> Result<User> {
        require_admin(caller)?;
        match self.store.user(id).await? {
            Some(user) if user.domain_id == caller.domain_id => Ok(user),
            _ => Err(not_found("user")),
        }
    }

    /// Changes a user's password or state. Either change revokes the user's
    /// tokens (the credentials version moves on).
    pub async fn update_user(
        &self,
        caller: &Caller,
        id: &UserId,
        password: Option<&str>,
        enabled: Option<bool>,
    ) -> Result<User> {
        require_lasting(caller)?;
        let mut user = self.show_user(caller, id).await?;
        if user.is_root && enabled == Some(false) {
            return Err(Error::InvalidState(
                "the account administrator cannot be disabled".to_owned(),
            ));
        }
        if let Some(p) = password {
            check_password(p)?;
            user.password_hash = Some(self.hash_password(p).await?);
        }
        if let Some(e) = enabled {
            user.enabled = e;
        }
        user.credentials_version += 1;
        if !self.store.update_user(&user).await? {
            return Err(not_found("user"));
        }
        if password.is_some() {
            // A new password set by the administrator ends a lockout.
            self.store
                .clear_login_failures(user.user_id.as_str())
                .await?;
        }
        self.cache.forget_user(&user.user_id);
        Ok(user)
    }

    /// Deletes a user with its keys, memberships and policy attachments.
    pub async fn delete_user(&self, caller: &Caller, id: &UserId) -> Result<()> {
        let user = self.show_user(caller, id).await?;
        if user.is_root {
            return Err(Error::InvalidState(
                "the account administrator cannot be deleted".to_owned(),
            ));
        }
        if !self
            .store
            .delete_user(&caller.domain_id, &user.user_id)
            .await?
        {
            return Err(not_found("user"));
        }
        self.cache.forget_user(&user.user_id);
        self.authz.forget();
        Ok(())
    }

    /// Creates an access key for a user of the account (at most two each).
    pub async fn create_access_key(
        &self,
        caller: &Caller,
        user_id: &UserId,
        description: &str,
    ) -> Result<NewAccessKey> {
        require_lasting(caller)?;
        let user = self.show_user(caller, user_id).await?;
        if description.chars().count() > 255 {
            return Err(Error::invalid("description is at most 255 characters"));
        }
        let (access_key, secret_key) = generate_access_key();
        let key = AccessKey {
            sealed_secret: seal_secret_key(&self.keyring, &access_key, &secret_key),
            access_key,
            user_id: user.user_id.clone(),
            domain_id: caller.domain_id.clone(),
            enabled: true,
            description: description.to_owned(),
            created_at: self.clock.now_ms(),
        };
        if !self
            .store
            .create_access_key(&key, MAX_ACCESS_KEYS_PER_USER)
            .await?
        {
            return Err(Error::QuotaExceeded(format!(
                "a user holds at most {MAX_ACCESS_KEYS_PER_USER} access keys: delete one first"
            )));
        }
        Ok(NewAccessKey { key, secret_key })
    }

    /// The account's access keys, or one user's.
    pub async fn list_access_keys(
        &self,
        caller: &Caller,
        user_id: Option<&UserId>,
    ) -> Result<Vec<AccessKey>> {
        require_admin(caller)?;
        let user = match user_id {
            Some(id) => Some(self.show_user(caller, id).await?.user_id),
            None => None,
        };
        Ok(self
            .store
            .access_keys(&caller.domain_id, user.as_ref())
            .await?)
    }

    /// Enables or disables an access key, or changes its description.
    pub async fn update_access_key(
        &self,
        caller: &Caller,
        access_key: &str,
        enabled: Option<bool>,
        description: Option<&str>,
    ) -> Result<AccessKey> {
        require_admin(caller)?;
        require_lasting(caller)?;
        let ak = AccessKeyId::parse(access_key).ok_or_else(|| not_found("access key"))?;
        if description.is_some_and(|d| d.chars().count() > 255) {
            return Err(Error::invalid("description is at most 255 characters"));
        }
        if !self
            .store
            .update_access_key(&caller.domain_id, &ak, enabled, description)
            .await?
        {
            return Err(not_found("access key"));
        }
        let key = self
            .store
            .access_key(&ak)
            .await?
            .ok_or_else(|| not_found("access key"))?;
        self.cache.forget_user(&key.user_id);
        Ok(key)
    }

    /// Deletes an access key.
    pub async fn delete_access_key(&self, caller: &Caller, access_key: &str) -> Result<()> {
        require_admin(caller)?;
        let ak = AccessKeyId::parse(access_key).ok_or_else(|| not_found("access key"))?;
        let key = self
            .store
            .access_key(&ak)
            .await?
            .filter(|k| k.domain_id == caller.domain_id)
            .ok_or_else(|| not_found("access key"))?;
        if !self.store.delete_access_key(&caller.domain_id, &ak).await? {
            return Err(not_found("access key"));
        }
        self.cache.forget_user(&key.user_id);
        Ok(())
    }

    /// Creates a user group.
    pub async fn create_group(
        &self,
        caller: &Caller,
        name: &str,
        description: &str,
    ) -> Result<Group> {
        require_admin(caller)?;
        check_name(name, "group")?;
        let group = Group {
            group_id: GroupId::from_random(random_bytes()),
            domain_id: caller.domain_id.clone(),
            name: name.to_owned(),
            description: description.chars().take(255).collect(),
            created_at: self.clock.now_ms(),
        };
        self.store
            .create_group(&group)
            .await
            .map_err(|e| conflict("group")(e.into()))?;
        Ok(group)
    }

    /// The account's groups.
    pub async fn list_groups(&self, caller: &Caller) -> Result<Vec<Group>> {
        require_admin(caller)?;
        Ok(self.store.groups(&caller.domain_id).await?)
    }

    /// Deletes a group.
    pub async fn delete_group(&self, caller: &Caller, id: &GroupId) -> Result<()> {
        require_admin(caller)?;
        if !self.store.delete_group(&caller.domain_id, id).await? {
            return Err(not_found("group"));
        }
        self.authz.forget();
        Ok(())
    }

    /// Adds a user to a group, or removes it.
    pub async fn set_group_member(
        &self,
        caller: &Caller,
        group: &GroupId,
        user: &UserId,
        member: bool,
    ) -> Result<()> {
        require_admin(caller)?;
        if !self
            .store
            .set_group_member(&caller.domain_id, group, user, member)
            .await?
        {
            return Err(not_found("group or user"));
        }
        self.authz.forget();
        Ok(())
    }

    /// Stores an identity policy after validating its document.
    pub async fn create_policy(
        &self,
        caller: &Caller,
        name: &str,
        document: &str,
        description: &str,
    ) -> Result<PolicyRecord> {
        require_admin(caller)?;
        check_name(name, "policy")?;
        Policy::parse(document)?;
        let now = self.clock.now_ms();
        let record = PolicyRecord {
            policy_id: PolicyId::from_random(random_bytes()),
            domain_id: caller.domain_id.clone(),
            name: name.to_owned(),
            description: description.chars().take(1000).collect(),
            document: document.to_owned(),
            created_at: now,
            updated_at: now,
        };
        self.store
            .create_policy(&record)
            .await
            .map_err(|e| conflict("policy")(e.into()))?;
        Ok(record)
    }

    /// The account's policies.
    pub async fn list_policies(&self, caller: &Caller) -> Result<Vec<PolicyRecord>> {
        require_admin(caller)?;
        Ok(self.store.policies(&caller.domain_id).await?)
    }

    /// One policy.
    pub async fn show_policy(&self, caller: &Caller, id: &PolicyId) -> Result<PolicyRecord> {
        require_admin(caller)?;
        self.store
            .policy(&caller.domain_id, id)
            .await?
            .ok_or_else(|| not_found("policy"))
    }

    /// Deletes a policy (and detaches it everywhere).
    pub async fn delete_policy(&self, caller: &Caller, id: &PolicyId) -> Result<()> {
        require_admin(caller)?;
        if !self.store.delete_policy(&caller.domain_id, id).await? {
            return Err(not_found("policy"));
        }
        self.authz.forget();
        Ok(())
    }

    /// Attaches a policy to a user or group, or detaches it.
    pub async fn set_attachment(
        &self,
        caller: &Caller,
        id: &PolicyId,
        principal: Principal,
        attached: bool,
    ) -> Result<()> {
        require_admin(caller)?;
        if !self
            .store
            .set_attachment(
                &caller.domain_id,
                id,
                &principal,
                attached,
                self.clock.now_ms(),
            )
            .await?
        {
            return Err(not_found("policy or principal"));
        }
        self.authz.forget();
        Ok(())
    }
}

/// Parses a user id (the HTTP edge does, once); a malformed one is a user
/// that does not exist.
pub fn user_id(text: &str) -> Result<UserId> {
    UserId::parse(text).ok_or_else(|| not_found("user"))
}

/// Parses a group id; a malformed one is a group that does not exist.
pub fn group_id(text: &str) -> Result<GroupId> {
    GroupId::parse(text).ok_or_else(|| not_found("group"))
}

/// Parses a policy id; a malformed one is a policy that does not exist.
pub fn policy_id(text: &str) -> Result<PolicyId> {
    PolicyId::parse(text).ok_or_else(|| not_found("policy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_names_follow_the_rules() {
        assert!(check_password("Secret-123").is_ok());
        assert!(check_password("alllowercase").is_err());
        assert!(check_password("Sh0rt").is_err());
        assert!(check_password(&"aA".repeat(65)).is_err());
        assert!(check_name("alice", "user").is_ok());
        assert!(check_name("张三", "user").is_ok());
        assert!(check_name("", "user").is_err());
        assert!(check_name("a/b", "user").is_err());
        assert!(check_name(" lead", "user").is_err());
    }
}
