//! IAM: who is calling.
//!
//! [`Iam`] turns credentials into a [`Caller`]: an AK/SK signature (what the
//! official SDKs send), a token minted by `POST /v3/auth/tokens`, or a
//! password (only to mint a token). It also bootstraps the first
//! administrator and answers the IAM discovery calls.
//!
//! Submodules:
//! - [`signing`]: the SDK's canonical request and signature schemes (pure).
//! - [`token`]: sealed, expiring bearer tokens.
//! - [`password`]: argon2id password hashes.
//! - [`policy`]: identity policy documents and decisions.
//! - [`bootstrap`]: the first start's administrator and credentials file.
//! - [`authz`]: actions, identity-policy decisions, list visibility.
//! - [`admin`]: accounts, users, access keys, groups, policies.

pub mod admin;
pub mod authz;
pub mod bootstrap;
pub mod cache;
pub mod console;
pub mod lockout;
pub mod password;
pub mod policy;
pub(crate) mod sealed;
pub mod signing;
pub mod sts;
pub mod token;

use std::sync::Arc;

use openccm_custody::Keyring;
use openccm_store::{AccessKeyId, Account, DomainId, Project, Store, User, UserId};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::metrics::AuthFailure;
use signing::{Authorization, RequestParts, SigningAlgorithm};
pub use token::IssuedToken;

/// How a caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// An AK/SK signature with this scheme.
    Signature(SigningAlgorithm),
    /// A signature with temporary credentials (`X-Security-Token`).
    Temporary(SigningAlgorithm),
    /// A bearer token (`X-Auth-Token`).
    Token,
    /// A password (only when minting a token).
    Password,
    /// A web console session (its cookie and anti-forgery header).
    Console,
}

/// An authenticated caller. Every use case takes one: nothing touches data
/// before authentication produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account.
    pub domain_id: DomainId,
    /// The account's name.
    pub domain_name: String,
    /// The IAM user.
    pub user_id: UserId,
    /// The user's name.
    pub user_name: String,
    /// The account administrator may do everything in the account.
    pub is_root: bool,
    /// How it authenticated.
    pub method: AuthMethod,
    /// What a token minted for this caller must stay bound to.
    pub binding: Binding,
}

/// What a credential minted from another one (a token from a signature, a
/// token from a token) stays bound to, so that it never outlives its origin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Binding {
    /// The access key whose signature started the chain: deleting or
    /// disabling it ends every credential minted from it.
    pub access_key: Option<AccessKeyId>,
    /// Epoch ms after which nothing minted from this caller may live (the
    /// expiry of the token or temporary credentials the caller presented).
    pub not_after: Option<i64>,
    /// The caller's credential comes from temporary credentials (directly,
    /// or through a token minted with them): it creates no credentials.
    pub temporary: bool,
}

/// IAM settings, handed down by the server's configuration.
#[derive(Debug, Clone)]
pub struct IamSettings {
    /// Token lifetime in milliseconds (default 24 h).
    pub token_ttl_ms: i64,
    /// Accepted distance between `X-Sdk-Date` and now (default 15 min).
    pub max_clock_skew_ms: i64,
    /// The region name this deployment answers to (project name).
    pub region: String,
    /// Failed-login lockout.
    pub lockout: lockout::LockoutSettings,
}

impl Default for IamSettings {
    fn default() -> Self {
        Self {
            token_ttl_ms: 24 * 3600 * 1000,
            max_clock_skew_ms: 15 * 60 * 1000,
            region: "local-1".to_owned(),
            lockout: lockout::LockoutSettings::default(),
        }
    }
}

/// A password login request.
pub struct PasswordLogin<'a> {
    /// The account, by name or id.
    pub domain_name: Option<&'a str>,
    /// The account by id.
    pub domain_id: Option<&'a str>,
    /// The user by name (needs the account).
    pub user_name: Option<&'a str>,
    /// The user by id.
    pub user_id: Option<&'a str>,
    /// The password.
    pub password: &'a str,
    /// The client's address (the TCP peer), when known.
    pub source: Option<std::net::IpAddr>,
}

/// The IAM service.
#[derive(Debug, Clone)]
pub struct Iam {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    settings: IamSettings,
    cache: Arc<cache::AuthCache>,
    authz: Arc<authz::Authorizer>,
    addresses: Arc<lockout::AddressThrottle>,
    login_slots: Arc<lockout::LoginSlots>,
    lockouts: Arc<lockout::LockoutCounters>,
    argon2: lockout::Argon2Slots,
}

/// Where the secret of a signed request comes from.
enum SigningKey {
    /// A stored access key.
    Stored(cache::OpenedKey),
    /// Temporary credentials, from their security token.
    Temporary(sts::SecurityClaims),
}

impl SigningKey {
    fn secret(&self) -> &[u8] {
        match self {
            Self::Stored(opened) => &opened.secret,
            Self::Temporary(claims) => &claims.secret,
        }
    }

    fn user_id(&self) -> &UserId {
        match self {
            Self::Stored(opened) => &opened.key.user_id,
            Self::Temporary(claims) => &claims.user_id,
        }
    }
}

/// The login-attempt row every unknown user name counts on (never a user id:
/// those are 32 hex characters).
const UNKNOWN_LOGIN_SUBJECT: &str = "unknown-user";

/// The message of every failed AK/SK check, as the cloud gateway words it.
pub(crate) fn auth_failed(detail: &str) -> Error {
    Error::Unauthenticated(format!(
        "Incorrect IAM authentication information: {detail}"
    ))
}

/// `err`, counted as an authentication refused for `reason` when it is one
/// (a store failure on the way is not).
pub(crate) fn refused(reason: AuthFailure, err: Error) -> Error {
    if matches!(err, Error::Unauthenticated(_)) {
        crate::metrics::auth_failure(reason);
    }
    err
}

impl Iam {
    /// Builds the service.
    pub fn new(
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        settings: IamSettings,
    ) -> Self {
        Self {
            authz: Arc::new(authz::Authorizer::new(store.clone(), &settings.region)),
            store,
            keyring,
            clock,
            settings,
            cache: Arc::new(cache::AuthCache::default()),
            addresses: Arc::default(),
            login_slots: Arc::default(),
            lockouts: Arc::default(),
            argon2: lockout::Argon2Slots::default(),
        }
    }

    /// Locks imposed on users and addresses since start.
    pub fn lockout_counters(&self) -> &lockout::LockoutCounters {
        &self.lockouts
    }

    /// Runs argon2 work (hashing or verifying a password) within the
    /// one-thread-per-core cap.
    pub async fn argon2<R: Send + 'static>(
        &self,
        work: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R> {
        self.argon2.run(work).await
    }

    /// The authorizer every service checks with.
    pub fn authorizer(&self) -> Arc<authz::Authorizer> {
        self.authz.clone()
    }

    /// The authentication cache (changes to a user call `forget_user`).
    pub fn cache(&self) -> &cache::AuthCache {
        &self.cache
    }

    /// The settings.
    pub fn settings(&self) -> &IamSettings {
        &self.settings
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The keyring.
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    /// Checks that the keyring matches the database: every key version the
    /// database knows must be in the keyring with the same check value.
    /// Records the check values of new versions.
    pub async fn verify_keyring(&self) -> Result<()> {
        let stored = self.store.key_checks().await?;
        for (version, check) in &stored {
            match self.keyring.check_value(*version) {
                Some(ours) if ours.as_slice() == check.as_slice() => {}
                Some(_) => {
                    return Err(Error::Internal(format!(
                        "master key version {version} differs from the one this database was \
                         sealed with: wrong key file"
                    )))
                }
                None => {
                    return Err(Error::Internal(format!(
                        "the database was sealed with master key version {version}, which the \
                         key file does not hold"
                    )))
                }
            }
        }
        // A new store learns the key file's versions. Later versions are
        // recorded by a rotation only (`crates/openccm-server/src/
        // admin_rotation.rs`): one the key file holds and the store does
        // not (added by `rotate-master-key --prepare`, perhaps not yet on
        // every server) opens but does not seal.
        if stored.is_empty() {
            for version in self.keyring.versions() {
                if let Some(check) = self.keyring.check_value(version) {
                    self.store
                        .add_key_check(version, &check, self.clock.now_ms())
                        .await?;
                }
            }
        } else if let Some(sealable) = self.store.sealable_version().await? {
            // Versions are checked above: every one the store knows is this
            // key file's.
            self.keyring.seal_up_to(sealable);
        }
        Ok(())
    }

    /// Authenticates an AK/SK-signed request (iam-auth.md § 2.5).
    ///
    /// Fails with `Unauthenticated` for a malformed header, an unknown or
    /// disabled key, a stale date, or a signature that does not verify; with
    /// `Forbidden` when `X-Domain-Id` names another account.
    pub async fn authenticate_signed(
        &self,
        authorization: &str,
        parts: &RequestParts<'_>,
    ) -> Result<Caller> {
        let malformed =
            |detail: &str| refused(AuthFailure::MalformedSignature, auth_failed(detail));
        let auth = Authorization::parse(authorization).map_err(|e| malformed(&e.to_string()))?;
        let date = parts
            .header("x-sdk-date")
            .ok_or_else(|| malformed("X-Sdk-Date is missing"))?;
        let date_ms = signing::parse_sdk_date(date).map_err(|e| malformed(&e.to_string()))?;
        let now = self.clock.now_ms();
        if (now - date_ms).abs() > self.settings.max_clock_skew_ms {
            return Err(refused(
                AuthFailure::StaleSignature,
                auth_failed(&format!(
                    "signature expired, signature time:{}, server time:{}",
                    String::from_utf8_lossy(date),
                    crate::clock::iso8601_micros(now)
                )),
            ));
        }
        if signing::has_encoded_slash(parts.path) {
            return Err(malformed(
                "an encoded '/' in the path is not accepted with a signature",
            ));
        }
        let canonical =
            signing::canonical_request(&auth, parts).map_err(|e| malformed(&e.to_string()))?;
        let sdk_date = String::from_utf8_lossy(date);
        let string_to_sign = signing::string_to_sign(auth.algorithm, &sdk_date, &canonical);

        // The secret: from the security token for temporary credentials,
        // else from the store.
        let key = match parts.header("x-security-token") {
            Some(token) => SigningKey::Temporary(
                self.open_security_token(&auth.access, token)
                    .map_err(|e| refused(AuthFailure::BadSecurityToken, e))?,
            ),
            None => SigningKey::Stored(
                self.stored_key(&auth.access)
                    .await
                    .map_err(|e| refused(AuthFailure::UnknownAccessKey, e))?,
            ),
        };
        signing::verify_signature(
            auth.algorithm,
            &auth.access,
            key.secret(),
            &string_to_sign,
            &auth.signature,
        )
        .map_err(|e| refused(AuthFailure::BadSignature, auth_failed(&e.to_string())))?;
        let (user, account) = self
            .active_user(key.user_id())
            .await
            .map_err(|e| refused(AuthFailure::InactiveUser, e))?;
        if let SigningKey::Temporary(claims) = &key {
            let stands = self
                .still_stands(
                    &user,
                    &claims.domain_id,
                    claims.credentials_version,
                    claims.origin.as_ref(),
                )
                .await?;
            if !stands {
                return Err(refused(
                    AuthFailure::Revoked,
                    auth_failed("the temporary credentials were revoked"),
                ));
            }
        }
        if let Some(domain) = parts.header("x-domain-id") {
            if domain != account.domain_id.as_str().as_bytes() {
                return Err(Error::Forbidden(
                    "X-Domain-Id does not match the access key's account".to_owned(),
                ));
            }
        }
        if let Some(project) = parts.header("x-project-id") {
            let projects = self.store.projects(&account.domain_id, None).await?;
            if !projects
                .iter()
                .any(|p| p.project_id.as_str().as_bytes() == project)
            {
                return Err(Error::Forbidden(
                    "X-Project-Id is not a project of the access key's account".to_owned(),
                ));
            }
        }
        let (method, binding) = match key {
            SigningKey::Stored(opened) => (
                AuthMethod::Signature(auth.algorithm),
                Binding {
                    access_key: Some(opened.key.access_key),
                    ..Binding::default()
                },
            ),
            SigningKey::Temporary(claims) => {
                (AuthMethod::Temporary(auth.algorithm), claims.binding())
            }
        };
        Ok(caller(&user, &account, method, binding))
    }

    /// The enabled access key `access`, with its opened secret.
    async fn stored_key(&self, access: &str) -> Result<cache::OpenedKey> {
        let not_exist = || {
            auth_failed(&format!(
                "Get secretKey failed,ak:{access},err:ak not exist"
            ))
        };
        let ak = AccessKeyId::parse(access).ok_or_else(not_exist)?;
        let opened = self.opened_key(&ak).await?.ok_or_else(not_exist)?;
        if opened.key.enabled {
            Ok(opened)
        } else {
            Err(not_exist())
        }
    }

    /// The access key `ak` with its opened secret, from the cache or the store.
    async fn opened_key(&self, ak: &AccessKeyId) -> Result<Option<cache::OpenedKey>> {
        if let Some(opened) = self.cache.key(ak.as_str()) {
            return Ok(Some(opened));
        }
        let Some(key) = self.store.access_key(ak).await? else {
            return Ok(None);
        };
        let secret = self
            .keyring
            .open(
                &bootstrap::secret_key_aad(&key.access_key),
                &openccm_custody::SealedSecret::from_bytes(key.sealed_secret.clone()),
            )
            .map_err(|e| Error::Internal(format!("cannot open the secret of {ak}: {e}")))?;
        let opened = cache::OpenedKey {
            key,
            secret: Arc::new(secret),
        };
        self.cache.put_key(ak.as_str(), opened.clone());
        Ok(Some(opened))
    }

    /// Whether a credential minted for `user` (in `domain`, at
    /// `credentials_version`, bound to the access key `origin`) still stands:
    /// the user's credentials have not changed since, and the key still
    /// exists, is enabled and is the user's.
    async fn still_stands(
        &self,
        user: &User,
        domain: &DomainId,
        credentials_version: i64,
        origin: Option<&AccessKeyId>,
    ) -> Result<bool> {
        if user.credentials_version != credentials_version || &user.domain_id != domain {
            return Ok(false);
        }
        let Some(ak) = origin else {
            return Ok(true);
        };
        Ok(self
            .opened_key(ak)
            .await?
            .is_some_and(|opened| opened.key.enabled && opened.key.user_id == user.user_id))
    }

    /// Authenticates an `X-Auth-Token`.
    ///
    /// Fails with `Unauthenticated` when the token is forged, malformed,
    /// expired, or its user is gone, disabled or changed credentials since.
    pub async fn authenticate_token(&self, token: &str) -> Result<Caller> {
        let claims = token::open(&self.keyring, token)
            .ok_or_else(|| refused(AuthFailure::BadToken, auth_failed("decrypt token fail")))?;
        self.caller_of_claims(claims).await
    }

    /// The caller of a token's claims, if they still stand.
    pub(super) async fn caller_of_claims(&self, claims: token::Claims) -> Result<Caller> {
        let now = self.clock.now_ms();
        if now >= claims.expires_at {
            return Err(refused(
                AuthFailure::ExpiredToken,
                auth_failed(&format!(
                    "token expires, expires_at: {}",
                    crate::clock::iso8601_micros(claims.expires_at)
                )),
            ));
        }
        let (user, account) = self
            .active_user(&claims.user_id)
            .await
            .map_err(|e| refused(AuthFailure::InactiveUser, e))
            .map_err(|_| auth_failed("decrypt token fail"))?;
        let stands = self
            .still_stands(
                &user,
                &claims.domain_id,
                claims.credentials_version,
                claims.access_key.as_ref(),
            )
            .await?;
        if !stands {
            return Err(refused(
                AuthFailure::Revoked,
                auth_failed("the token was revoked"),
            ));
        }
        let binding = Binding {
            access_key: claims.access_key,
            not_after: Some(claims.expires_at),
            temporary: claims.temporary,
        };
        Ok(caller(&user, &account, AuthMethod::Token, binding))
    }

    /// Checks a password and returns the caller it belongs to.
    ///
    /// Fails with `Unauthenticated` for an unknown account or user, a user
    /// without a password, a disabled or locked-out user, a wrong password,
    /// or a source address refused after too many attempts; the answer is
    /// the same for all, and but for a refused address (which costs nothing)
    /// each costs the same work. See [`lockout`] for the rules.
    pub async fn login_with_password(&self, login: &PasswordLogin<'_>) -> Result<Caller> {
        let fail = || Error::Unauthenticated("The username or password is wrong.".to_owned());
        let rules = self.settings.lockout;
        let verdict = match login.source {
            Some(address) => {
                let verdict = self.addresses.begin(address, self.clock.now_ms(), &rules);
                match verdict {
                    lockout::AddressVerdict::Allowed => {}
                    lockout::AddressVerdict::AllowedThenBlocked => {
                        self.lockouts.address_blocked();
                        tracing::warn!(%address, lock_ms = rules.lock_ms, "login: address blocked after repeated attempts");
                    }
                    lockout::AddressVerdict::Blocked => {
                        tracing::info!(%address, "login refused: the address is blocked");
                        return Err(refused(AuthFailure::BlockedAddress, fail()));
                    }
                }
                Some((address, verdict))
            }
            None => None,
        };
        let user = self.find_login_user(login).await?;
        // Unknown users share one row, whose lock means nothing.
        let subject = user
            .as_ref()
            .map_or(UNKNOWN_LOGIN_SUBJECT, |u| u.user_id.as_str());
        // One login of a subject at a time on this server, each reading the
        // count after the one before recorded its failure.
        let slot_key = match &user {
            Some(u) => u.user_id.to_string(),
            None => format!(
                "unknown:{}:{}:{}",
                login.domain_id.or(login.domain_name).unwrap_or_default(),
                login.user_name.unwrap_or_default(),
                login.user_id.unwrap_or_default()
            ),
        };
        let _slot = self.login_slots.acquire(&slot_key).await;
        let now = self.clock.now_ms();
        let failures = self.store.login_failures(subject).await?;
        let locked = user.is_some() && failures.is_some_and(|f| f.locked_until > now);
        // A locked user's password is not checked; the decoy costs the same.
        let hash = match &user {
            Some(u) if !locked => {
                self.lockouts.password_checked();
                u.password_hash.clone()
            }
            _ => None,
        };
        let password = zeroize::Zeroizing::new(login.password.to_owned());
        let matches = self
            .argon2(move || password::verify(hash.as_deref(), &password))
            .await?;
        if let (true, Some(user)) = (matches, &user) {
            if let Ok((user, account)) = self.active_user(&user.user_id).await {
                if failures.is_some() {
                    self.store.clear_login_failures(subject).await?;
                }
                if let Some((address, verdict)) = verdict {
                    self.addresses.succeeded(address, verdict);
                }
                return Ok(caller(
                    &user,
                    &account,
                    AuthMethod::Password,
                    Binding::default(),
                ));
            }
        }
        if locked {
            tracing::info!(subject, "login refused: the user is locked");
            return Err(refused(AuthFailure::LockedUser, fail()));
        }
        let state = self
            .store
            .record_login_failure(subject, now, rules.rule())
            .await?;
        if let (Some(user), true) = (&user, state.newly_locked) {
            self.lockouts.user_locked();
            tracing::warn!(
                user = %user.user_id,
                address = ?login.source,
                lock_ms = rules.lock_ms,
                "login: user locked after repeated failures"
            );
        }
        Err(refused(AuthFailure::WrongPassword, fail()))
    }

    async fn find_login_user(&self, login: &PasswordLogin<'_>) -> Result<Option<User>> {
        if let Some(id) = login.user_id {
            return Ok(match UserId::parse(id) {
                Some(id) => self.store.user(&id).await?,
                None => None,
            });
        }
        let Some(name) = login.user_name else {
            return Ok(None);
        };
        let account = match (login.domain_id, login.domain_name) {
            (Some(id), _) => match DomainId::parse(id) {
                Some(id) => self.store.account(&id).await?,
                None => None,
            },
            (None, Some(domain_name)) => self.store.account_by_name(domain_name).await?,
            (None, None) => None,
        };
        match account {
            Some(account) => Ok(self.store.user_by_name(&account.domain_id, name).await?),
            None => Ok(None),
        }
    }

    /// Mints a token for `caller`, bound to the caller's access key and never
    /// outliving the credential the caller presented.
    pub async fn issue_token(&self, caller: &Caller) -> Result<IssuedToken> {
        self.issue_token_for(token::Audience::Api, caller).await
    }

    /// [`Iam::issue_token`], for `audience`.
    pub(super) async fn issue_token_for(
        &self,
        audience: token::Audience,
        caller: &Caller,
    ) -> Result<IssuedToken> {
        let user = self
            .store
            .user(&caller.user_id)
            .await?
            .ok_or_else(|| Error::Unauthenticated("the user no longer exists".to_owned()))?;
        let now = self.clock.now_ms();
        let expires_at =
            (now + self.settings.token_ttl_ms).min(caller.binding.not_after.unwrap_or(i64::MAX));
        let issued = token::issue_for(
            audience,
            &self.keyring,
            &user,
            &caller.binding,
            now,
            expires_at,
        );
        crate::metrics::token_issued();
        Ok(issued)
    }

    async fn active_user(&self, user_id: &UserId) -> Result<(User, Account)> {
        let gone = || auth_failed("the user does not exist or is disabled");
        let (user, account) = match self.cache.user(user_id) {
            Some(found) => found,
            None => {
                let user = self.store.user(user_id).await?.ok_or_else(gone)?;
                let account = self
                    .store
                    .account(&user.domain_id)
                    .await?
                    .ok_or_else(gone)?;
                self.cache.put_user(user.clone(), account.clone());
                (user, account)
            }
        };
        if !user.enabled || !account.enabled {
            return Err(gone());
        }
        Ok((user, account))
    }

    /// The caller's own account (`GET /v3/auth/domains`).
    pub async fn own_account(&self, caller: &Caller) -> Result<Account> {
        self.store
            .account(&caller.domain_id)
            .await?
            .ok_or_else(|| Error::NotFound("account not found".to_owned()))
    }

    /// The caller's projects, optionally only the one named `name` (`GET /v3/projects`).
    pub async fn own_projects(&self, caller: &Caller, name: Option<&str>) -> Result<Vec<Project>> {
        Ok(self.store.projects(&caller.domain_id, name).await?)
    }
}

fn caller(user: &User, account: &Account, method: AuthMethod, binding: Binding) -> Caller {
    Caller {
        domain_id: account.domain_id.clone(),
        domain_name: account.name.clone(),
        user_id: user.user_id.clone(),
        user_name: user.name.clone(),
        is_root: user.is_root,
        method,
        binding,
    }
}
