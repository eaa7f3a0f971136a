//! The first start: an account, its administrator, an access key and a
//! project, written to the database and to a 0600 credentials file.

use openccm_custody::Keyring;
use openccm_store::{
    AccessKey, AccessKeyId, Account, BootstrapOutcome, BootstrapPlan, DomainId, Project, ProjectId,
    User, UserId,
};
use rand::{Rng, RngCore};
use zeroize::Zeroizing;

use super::Iam;
use crate::error::Result;

/// Persists the bootstrap credentials (the credentials file).
pub type Persist =
    std::sync::Arc<dyn Fn(&BootstrapCredentials) -> std::result::Result<(), String> + Send + Sync>;

/// The associated data that binds a sealed SK to its AK.
pub fn secret_key_aad(access_key: &AccessKeyId) -> Vec<u8> {
    [b"sk:".as_slice(), access_key.as_str().as_bytes()].concat()
}

/// The bootstrap administrator's credentials, shown once.
#[derive(Clone)]
pub struct BootstrapCredentials {
    /// Account id.
    pub domain_id: String,
    /// Account name.
    pub domain_name: String,
    /// Administrator user name.
    pub user_name: String,
    /// Administrator password (for tokens).
    pub password: Zeroizing<String>,
    /// AK.
    pub access_key: String,
    /// SK.
    pub secret_key: Zeroizing<String>,
    /// The project id in the configured region.
    pub project_id: String,
    /// The region.
    pub region: String,
}

impl std::fmt::Debug for BootstrapCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapCredentials")
            .field("domain_id", &self.domain_id)
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

impl BootstrapCredentials {
    /// The credentials file: TOML, so tools and tests can read it back.
    pub fn to_toml(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "# OpenCCM bootstrap administrator. Keep this file secret: it grants full\n\
             # control of the account. The secret key and password are shown only here.\n\
             domain_id = \"{}\"\n\
             domain_name = \"{}\"\n\
             user_name = \"{}\"\n\
             password = \"{}\"\n\
             access_key = \"{}\"\n\
             secret_key = \"{}\"\n\
             project_id = \"{}\"\n\
             region = \"{}\"\n",
            self.domain_id,
            self.domain_name,
            self.user_name,
            self.password.as_str(),
            self.access_key,
            self.secret_key.as_str(),
            self.project_id,
            self.region,
        ))
    }
}

fn random_string(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

fn random_id() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A random login password (24 letters and digits).
pub fn random_password() -> String {
    random_string(24, ALNUM)
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh access key pair: a 20-char AK and a 40-char SK (Huawei's shapes).
pub fn generate_access_key() -> (AccessKeyId, Zeroizing<String>) {
    let mut ak = [0u8; AccessKeyId::LEN];
    rand::rngs::OsRng.fill_bytes(&mut ak);
    let sk = Zeroizing::new(random_string(40, ALNUM));
    (AccessKeyId::from_random(ak), sk)
}

/// Seals an SK for storage under `keyring`.
pub fn seal_secret_key(keyring: &Keyring, access_key: &AccessKeyId, secret_key: &str) -> Vec<u8> {
    keyring
        .seal(&secret_key_aad(access_key), secret_key.as_bytes())
        .as_bytes()
        .to_vec()
}

impl Iam {
    /// Creates the bootstrap administrator unless one exists.
    ///
    /// `persist` receives the credentials before the transaction commits; if
    /// it fails nothing is committed, so an administrator never exists without
    /// its credentials file. Returns the credentials when this call created
    /// them, `None` when an administrator existed already.
    pub async fn bootstrap(&self, persist: Persist) -> Result<Option<BootstrapCredentials>> {
        let now = self.clock.now_ms();
        let domain_id = DomainId::from_random(random_id());
        let user_id = UserId::from_random(random_id());
        let project_id = ProjectId::from_random(random_id());
        let (access_key, secret_key) = generate_access_key();
        let login_password = Zeroizing::new(random_password());
        let password_hash = self.hash_password(&login_password).await?;
        let credentials = BootstrapCredentials {
            domain_id: domain_id.to_string(),
            domain_name: "admin".to_owned(),
            user_name: "admin".to_owned(),
            password: login_password,
            access_key: access_key.to_string(),
            secret_key: secret_key.clone(),
            project_id: project_id.to_string(),
            region: self.settings.region.clone(),
        };
        let plan = BootstrapPlan {
            account: Account {
                domain_id: domain_id.clone(),
                name: credentials.domain_name.clone(),
                enabled: true,
                created_at: now,
            },
            user: User {
                user_id: user_id.clone(),
                domain_id: domain_id.clone(),
                name: credentials.user_name.clone(),
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
                description: "bootstrap administrator".to_owned(),
                created_at: now,
            },
            project: Project {
                project_id,
                domain_id,
                name: self.settings.region.clone(),
                created_at: now,
            },
        };
        let for_hook = credentials.clone();
        let hook: openccm_store::BeforeCommit = std::sync::Arc::new(move || persist(&for_hook));
        match self.store.bootstrap(&plan, hook).await? {
            BootstrapOutcome::Created => Ok(Some(credentials)),
            BootstrapOutcome::AlreadyDone { .. } => Ok(None),
        }
    }
}
