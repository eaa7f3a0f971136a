//! `openccm admin`: accounts for a deployment operator, and the account
//! administrator's users, access keys, groups and policies, straight on the
//! store (the same data directory, database and master key as `serve`).
//!
//! Secret keys and passwords are printed once, on standard output.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use openccm_app::iam::{AuthMethod, Caller, Iam, IamSettings};
use openccm_app::SystemClock;
use openccm_custody::Keyring;
use openccm_store::{GroupId, PolicyId, Principal, UserId};

use crate::config::{Config, ServeArgs};

/// `openccm admin` arguments.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Where the store is: the same settings as `openccm serve`.
    #[command(flatten)]
    pub store: ServeArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// Administration commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Accounts (tenants) of this deployment.
    #[command(subcommand)]
    Account(AccountCommand),
    /// IAM users of an account.
    #[command(subcommand)]
    User(UserCommand),
    /// Access keys (AK/SK) of an account's users.
    #[command(subcommand)]
    Key(KeyCommand),
    /// User groups of an account.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Identity policies of an account.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Certificate revocation lists.
    #[command(subcommand)]
    Crl(CrlCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Expiry notifications of an account: where they go, and what was sent.
    #[command(subcommand)]
    Notification(NotificationCommand),
    /// ACME on a private CA: on, off, and EAB keys.
    #[command(subcommand)]
    Acme(crate::admin_acme::AcmeCommand),
    /// Writes a consistent backup of the SQLite store to a new file, online:
    /// servers go on issuing meanwhile, and the backup holds exactly what
    /// was committed when it began. The master key is never in it; the
    /// command checks that the key file at hand opens it and says which key
    /// version it needs: keep the two apart. PostgreSQL: use `pg_dump`
    /// (docs/operations.md).
    Backup {
        /// The backup file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Adds a master key version to the key file and re-seals every stored
    /// secret (CA keys, generated keys, secret keys of access keys, SSL
    /// keys) under it, while servers keep running: servers sharing the
    /// store take the new version up from their key file within seconds,
    /// and nothing is re-sealed until every running server holds it (share
    /// the file, or use --prepare and copy it first). An interrupted
    /// rotation is resumed by running this again.
    RotateMasterKey {
        /// Only add the next version to the key file (nothing is sealed
        /// under it): copy the file to every server that does not share it,
        /// then run the command without --prepare.
        #[arg(long)]
        prepare: bool,
        /// How long to wait for every running server to hold the new
        /// version before re-sealing anything.
        #[arg(long, default_value_t = 60)]
        wait_secs: u64,
    },
    /// Restores a backup as the SQLite store of --data-dir (or
    /// --database-url), which must not exist: a restore never overwrites a
    /// store. Put the master key the backup needs at --master-key-file
    /// (default <data-dir>/master.key) first, or before the first start.
    Restore {
        /// The backup file (`openccm admin backup --to`).
        #[arg(long)]
        from: PathBuf,
    },
}

/// Audit trail commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Writes the audit trail to standard output as JSON lines (seq, time,
    /// account, user, source address, action, resource, result, request id,
    /// and the chain's macs).
    Export {
        /// Only events from this time on: RFC 3339 or epoch milliseconds.
        #[arg(long)]
        since: Option<String>,
    },
    /// Checks the hash chain with the master key: of the database, or of an
    /// export. Exits non-zero when an event was edited, inserted, deleted
    /// or reordered. Prints the head: compare it with the last one seen to
    /// notice events deleted from the end.
    Verify {
        /// An export (`openccm admin audit export`) instead of the database.
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

/// Expiry notification commands.
#[derive(Debug, Subcommand)]
pub enum NotificationCommand {
    /// Sets where an account's expiry notices go and when: e-mail
    /// recipients (through the server's --smtp-server) and a webhook (an
    /// HTTP or HTTPS POST of a JSON event, signed with HMAC-SHA256 under a
    /// secret printed once here), at each of --days before a private
    /// certificate, a private CA or an SSL certificate (whose SCM notices
    /// are on) expires, and once when it has expired.
    Set {
        /// Account name.
        #[arg(long)]
        account: String,
        /// An e-mail recipient (repeat for more).
        #[arg(long = "email")]
        emails: Vec<String>,
        /// The webhook URL.
        #[arg(long)]
        webhook_url: Option<String>,
        /// Days before expiry, comma-separated.
        #[arg(long, default_value = "30,7,1")]
        days: String,
    },
    /// Shows an account's channels and its latest notices.
    Show {
        /// Account name.
        #[arg(long)]
        account: String,
    },
}

/// CRL commands.
#[derive(Debug, Subcommand)]
pub enum CrlCommand {
    /// Checks that every CA publishing a CRL serves each of its unexpired
    /// revoked serials exactly once (full and delta CRL together) and
    /// nothing else, against the set rebuilt from the store. Exits non-zero
    /// when one does not. Give it the same --public-url (or --listen) as
    /// `serve`: the CRLs name their delta's URL.
    Check,
}

/// Account commands.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Creates an account with its administrator; prints the credentials once.
    Create {
        /// Account name (also the administrator's user name).
        #[arg(long)]
        name: String,
    },
    /// Lists the accounts.
    List,
}

/// User commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates an IAM user (denied everything until a policy allows it);
    /// prints its generated password once.
    Create {
        /// Account name.
        #[arg(long)]
        account: String,
        /// User name.
        #[arg(long)]
        name: String,
        /// No password (access keys only).
        #[arg(long)]
        no_password: bool,
    },
    /// Lists the account's users.
    List {
        /// Account name.
        #[arg(long)]
        account: String,
    },
    /// Disables a user (its tokens stop working at once).
    Disable {
        /// Account name.
        #[arg(long)]
        account: String,
        /// User name.
        #[arg(long)]
        name: String,
    },
    /// Enables a user.
    Enable {
        /// Account name.
        #[arg(long)]
        account: String,
        /// User name.
        #[arg(long)]
        name: String,
    },
    /// Deletes a user with its keys, memberships and attachments.
    Delete {
        /// Account name.
        #[arg(long)]
        account: String,
        /// User name.
        #[arg(long)]
        name: String,
    },
}

/// Access key commands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Creates an access key (at most two per user); prints the SK once.
    Create {
        /// Account name.
        #[arg(long)]
        account: String,
        /// User name.
        #[arg(long)]
        user: String,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Lists access keys (never their secrets).
    List {
        /// Account name.
        #[arg(long)]
        account: String,
        /// Only this user's.
        #[arg(long)]
        user: Option<String>,
    },
    /// Rotates: creates a new key for the owner of `--access-key` and
    /// disables the old one; delete it once clients use the new one.
    Rotate {
        /// Account name.
        #[arg(long)]
        account: String,
        /// The key to replace.
        #[arg(long)]
        access_key: String,
    },
    /// Disables a key.
    Disable {
        /// Account name.
        #[arg(long)]
        account: String,
        /// The AK.
        #[arg(long)]
        access_key: String,
    },
    /// Enables a key.
    Enable {
        /// Account name.
        #[arg(long)]
        account: String,
        /// The AK.
        #[arg(long)]
        access_key: String,
    },
    /// Deletes a key.
    Delete {
        /// Account name.
        #[arg(long)]
        account: String,
        /// The AK.
        #[arg(long)]
        access_key: String,
    },
}

/// Group commands.
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Creates a group.
    Create {
        /// Account name.
        #[arg(long)]
        account: String,
        /// Group name.
        #[arg(long)]
        name: String,
    },
    /// Adds a user to a group.
    AddUser {
        /// Account name.
        #[arg(long)]
        account: String,
        /// Group name.
        #[arg(long)]
        group: String,
        /// User name.
        #[arg(long)]
        user: String,
    },
    /// Lists the groups.
    List {
        /// Account name.
        #[arg(long)]
        account: String,
    },
}

/// Policy commands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Creates a policy from a JSON document file.
    Create {
        /// Account name.
        #[arg(long)]
        account: String,
        /// Policy name.
        #[arg(long)]
        name: String,
        /// The document (JSON).
        #[arg(long)]
        document: PathBuf,
    },
    /// Attaches a policy to a user or a group.
    Attach {
        /// Account name.
        #[arg(long)]
        account: String,
        /// Policy name.
        #[arg(long)]
        name: String,
        /// User name.
        #[arg(long, conflicts_with = "group", required_unless_present = "group")]
        user: Option<String>,
        /// Group name.
        #[arg(long)]
        group: Option<String>,
    },
    /// Detaches a policy from a user or a group.
    Detach {
        /// Account name.
        #[arg(long)]
        account: String,
        /// Policy name.
        #[arg(long)]
        name: String,
        /// User name.
        #[arg(long, conflicts_with = "group", required_unless_present = "group")]
        user: Option<String>,
        /// Group name.
        #[arg(long)]
        group: Option<String>,
    },
    /// Lists the policies.
    List {
        /// Account name.
        #[arg(long)]
        account: String,
    },
}

/// Runs an administration command.
pub fn run(args: AdminArgs) -> ExitCode {
    let config = match Config::load(args.store) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("openccm: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("openccm: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(config, args.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("openccm: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn open(config: &Config) -> Result<Iam, String> {
    if !config.master_key_file.exists() {
        return Err(format!(
            "no master key at {}: run `openccm serve` once first, or point --data-dir at its data directory",
            config.master_key_file.display()
        ));
    }
    let (keyring, _) =
        Keyring::load_or_create(&config.master_key_file).map_err(|e| e.to_string())?;
    let store = openccm_store::open(config.database_url.expose(), 2)
        .await
        .map_err(|e| format!("cannot open the store: {e}"))?;
    let iam = Iam::new(
        store,
        Arc::new(keyring),
        Arc::new(SystemClock),
        IamSettings {
            region: config.region.clone(),
            ..IamSettings::default()
        },
    );
    iam.verify_keyring().await.map_err(|e| e.to_string())?;
    Ok(iam)
}

/// The account administrator of `account`, as whom the commands act.
pub(crate) async fn administrator(iam: &Iam, account: &str) -> Result<Caller, String> {
    let account = iam
        .account_named(account)
        .await
        .map_err(|e| e.to_string())?;
    let users = iam
        .store()
        .users(&account.domain_id)
        .await
        .map_err(|e| e.to_string())?;
    let root = users
        .into_iter()
        .find(|u| u.is_root)
        .ok_or_else(|| "the account has no administrator".to_owned())?;
    Ok(Caller {
        domain_id: account.domain_id,
        domain_name: account.name,
        user_id: root.user_id,
        user_name: root.name,
        is_root: true,
        method: AuthMethod::Password,
        binding: openccm_app::iam::Binding::default(),
    })
}

async fn user_id(iam: &Iam, admin: &Caller, name: &str) -> Result<UserId, String> {
    iam.store()
        .user_by_name(&admin.domain_id, name)
        .await
        .map_err(|e| e.to_string())?
        .map(|u| u.user_id)
        .ok_or_else(|| format!("no user {name:?} in the account"))
}

async fn group_id(iam: &Iam, admin: &Caller, name: &str) -> Result<GroupId, String> {
    iam.list_groups(admin)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|g| g.name == name)
        .map(|g| g.group_id)
        .ok_or_else(|| format!("no group {name:?} in the account"))
}

async fn policy_id(iam: &Iam, admin: &Caller, name: &str) -> Result<PolicyId, String> {
    iam.list_policies(admin)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| p.policy_id)
        .ok_or_else(|| format!("no policy {name:?} in the account"))
}

async fn principal(
    iam: &Iam,
    admin: &Caller,
    user: Option<String>,
    group: Option<String>,
) -> Result<Principal, String> {
    match (user, group) {
        (Some(user), _) => Ok(Principal::User(user_id(iam, admin, &user).await?)),
        (None, Some(group)) => Ok(Principal::Group(group_id(iam, admin, &group).await?)),
        (None, None) => Err("name a --user or a --group".to_owned()),
    }
}

async fn set_user_enabled(
    iam: &Iam,
    account: &str,
    name: &str,
    enabled: bool,
) -> Result<(), String> {
    let admin = administrator(iam, account).await?;
    let id = user_id(iam, &admin, name).await?;
    iam.update_user(&admin, &id, None, Some(enabled))
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

async fn set_attachment(
    iam: &Iam,
    account: &str,
    name: &str,
    user: Option<String>,
    group: Option<String>,
    attached: bool,
) -> Result<(), String> {
    let admin = administrator(iam, account).await?;
    let policy = policy_id(iam, &admin, name).await?;
    let principal = principal(iam, &admin, user, group).await?;
    iam.set_attachment(&admin, &policy, principal, attached)
        .await
        .map_err(|e| e.to_string())
}

async fn execute(config: Config, command: AdminCommand) -> Result<(), String> {
    // A restore creates the store: opening it first would create an empty one.
    if let AdminCommand::Restore { from } = &command {
        return crate::admin_backup::restore(&config, from).await;
    }
    let iam = open(&config).await?;
    let audited = crate::admin_audit::describe(&command);
    run_command(&config, &iam, command).await?;
    if let Some((action, resource)) = audited {
        crate::admin_audit::record(&iam, action, resource).await?;
    }
    Ok(())
}

async fn run_command(config: &Config, iam: &Iam, command: AdminCommand) -> Result<(), String> {
    let e = |err: openccm_app::Error| err.to_string();
    match command {
        AdminCommand::Account(AccountCommand::Create { name }) => {
            let creds = iam.create_account(&name).await.map_err(e)?;
            println!("account (domain) id : {}", creds.domain_id);
            println!("account name        : {}", creds.domain_name);
            println!("administrator       : {}", creds.user_name);
            println!("password            : {}", creds.password.as_str());
            println!("access key (AK)     : {}", creds.access_key);
            println!("secret key (SK)     : {}", creds.secret_key.as_str());
            println!("(the password and the secret key are shown only now)");
        }
        AdminCommand::Account(AccountCommand::List) => {
            for account in iam.accounts().await.map_err(e)? {
                println!(
                    "{}  {}{}",
                    account.domain_id,
                    account.name,
                    if account.enabled { "" } else { "  (disabled)" }
                );
            }
        }
        AdminCommand::User(command) => match command {
            UserCommand::Create {
                account,
                name,
                no_password,
            } => {
                let admin = administrator(iam, &account).await?;
                let password = (!no_password)
                    .then(|| format!("{}-Aa1", openccm_app::iam::bootstrap::random_password()));
                let user = iam
                    .create_user(&admin, &name, password.as_deref(), true)
                    .await
                    .map_err(e)?;
                println!("user id  : {}", user.user_id);
                if let Some(p) = password {
                    println!("password : {p}  (shown only now)");
                }
            }
            UserCommand::List { account } => {
                let admin = administrator(iam, &account).await?;
                for user in iam.list_users(&admin).await.map_err(e)? {
                    println!(
                        "{}  {}{}{}",
                        user.user_id,
                        user.name,
                        if user.is_root {
                            "  (administrator)"
                        } else {
                            ""
                        },
                        if user.enabled { "" } else { "  (disabled)" }
                    );
                }
            }
            UserCommand::Disable { account, name } => {
                set_user_enabled(iam, &account, &name, false).await?;
                println!("disabled user {name}");
            }
            UserCommand::Enable { account, name } => {
                set_user_enabled(iam, &account, &name, true).await?;
                println!("enabled user {name}");
            }
            UserCommand::Delete { account, name } => {
                let admin = administrator(iam, &account).await?;
                let id = user_id(iam, &admin, &name).await?;
                iam.delete_user(&admin, &id).await.map_err(e)?;
                println!("deleted user {name}");
            }
        },
        AdminCommand::Key(command) => match command {
            KeyCommand::Create {
                account,
                user,
                description,
            } => {
                let admin = administrator(iam, &account).await?;
                let id = user_id(iam, &admin, &user).await?;
                let key = iam
                    .create_access_key(&admin, &id, &description)
                    .await
                    .map_err(e)?;
                println!("access key (AK) : {}", key.key.access_key);
                println!(
                    "secret key (SK) : {}  (shown only now)",
                    key.secret_key.as_str()
                );
            }
            KeyCommand::List { account, user } => {
                let admin = administrator(iam, &account).await?;
                let id = match user {
                    Some(name) => Some(user_id(iam, &admin, &name).await?),
                    None => None,
                };
                for key in iam.list_access_keys(&admin, id.as_ref()).await.map_err(e)? {
                    println!(
                        "{}  user {}  {}  {}",
                        key.access_key,
                        key.user_id,
                        if key.enabled { "active" } else { "inactive" },
                        key.description
                    );
                }
            }
            KeyCommand::Rotate {
                account,
                access_key,
            } => {
                let admin = administrator(iam, &account).await?;
                let old = iam
                    .list_access_keys(&admin, None)
                    .await
                    .map_err(e)?
                    .into_iter()
                    .find(|k| k.access_key.as_str() == access_key)
                    .ok_or_else(|| format!("no access key {access_key} in the account"))?;
                let new = iam
                    .create_access_key(&admin, &old.user_id, "rotated")
                    .await
                    .map_err(e)?;
                iam.update_access_key(&admin, &access_key, Some(false), None)
                    .await
                    .map_err(e)?;
                println!("new access key (AK) : {}", new.key.access_key);
                println!(
                    "new secret key (SK) : {}  (shown only now)",
                    new.secret_key.as_str()
                );
                println!("{access_key} is disabled; delete it once nothing uses it");
            }
            KeyCommand::Disable {
                account,
                access_key,
            } => {
                let admin = administrator(iam, &account).await?;
                iam.update_access_key(&admin, &access_key, Some(false), None)
                    .await
                    .map_err(e)?;
                println!("disabled {access_key}");
            }
            KeyCommand::Enable {
                account,
                access_key,
            } => {
                let admin = administrator(iam, &account).await?;
                iam.update_access_key(&admin, &access_key, Some(true), None)
                    .await
                    .map_err(e)?;
                println!("enabled {access_key}");
            }
            KeyCommand::Delete {
                account,
                access_key,
            } => {
                let admin = administrator(iam, &account).await?;
                iam.delete_access_key(&admin, &access_key)
                    .await
                    .map_err(e)?;
                println!("deleted {access_key}");
            }
        },
        AdminCommand::Group(command) => match command {
            GroupCommand::Create { account, name } => {
                let admin = administrator(iam, &account).await?;
                let group = iam.create_group(&admin, &name, "").await.map_err(e)?;
                println!("group id : {}", group.group_id);
            }
            GroupCommand::AddUser {
                account,
                group,
                user,
            } => {
                let admin = administrator(iam, &account).await?;
                let g = group_id(iam, &admin, &group).await?;
                let u = user_id(iam, &admin, &user).await?;
                iam.set_group_member(&admin, &g, &u, true)
                    .await
                    .map_err(e)?;
                println!("{user} is in {group}");
            }
            GroupCommand::List { account } => {
                let admin = administrator(iam, &account).await?;
                for group in iam.list_groups(&admin).await.map_err(e)? {
                    println!("{}  {}", group.group_id, group.name);
                }
            }
        },
        AdminCommand::Policy(command) => match command {
            PolicyCommand::Create {
                account,
                name,
                document,
            } => {
                let admin = administrator(iam, &account).await?;
                let text = std::fs::read_to_string(&document)
                    .map_err(|err| format!("cannot read {}: {err}", document.display()))?;
                let policy = iam
                    .create_policy(&admin, &name, &text, "")
                    .await
                    .map_err(e)?;
                println!("policy id : {}", policy.policy_id);
            }
            PolicyCommand::Attach {
                account,
                name,
                user,
                group,
            } => {
                set_attachment(iam, &account, &name, user, group, true).await?;
                println!("attached {name}");
            }
            PolicyCommand::Detach {
                account,
                name,
                user,
                group,
            } => {
                set_attachment(iam, &account, &name, user, group, false).await?;
                println!("detached {name}");
            }
            PolicyCommand::List { account } => {
                let admin = administrator(iam, &account).await?;
                for policy in iam.list_policies(&admin).await.map_err(e)? {
                    println!("{}  {}", policy.policy_id, policy.name);
                }
            }
        },
        AdminCommand::Audit(AuditCommand::Export { since }) => {
            let since = since
                .as_deref()
                .map(openccm_app::clock::parse_time_ms)
                .transpose()?;
            crate::admin_audit::export(iam.store().as_ref(), since).await?;
        }
        AdminCommand::Audit(AuditCommand::Verify { file }) => {
            crate::admin_audit::verify(iam.store().as_ref(), iam.keyring(), file.as_deref())
                .await?;
        }
        AdminCommand::Backup { to } => crate::admin_backup::backup(config, iam, &to).await?,
        AdminCommand::RotateMasterKey {
            prepare: false,
            wait_secs,
        } => {
            crate::admin_rotation::rotate(config, iam, Duration::from_secs(wait_secs)).await?;
        }
        AdminCommand::RotateMasterKey { prepare: true, .. } => {
            crate::admin_rotation::prepare(config, iam).await?;
        }
        AdminCommand::Restore { .. } => {
            return Err("a restore runs before the store opens".to_owned())
        }
        AdminCommand::Notification(command) => crate::admin_notify::run(iam, command).await?,
        AdminCommand::Acme(command) => crate::admin_acme::run(config, iam, command).await?,
        AdminCommand::Crl(CrlCommand::Check) => {
            let pca = open_pca(config, iam)?;
            for line in pca.check_crls().await.map_err(e)? {
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// The private CA on the same store, as `serve` builds it.
pub(crate) fn open_pca(config: &Config, iam: &Iam) -> Result<openccm_app::pca::Pca, String> {
    let (keyring, _) =
        Keyring::load_or_create(&config.master_key_file).map_err(|e| e.to_string())?;
    let public_url = config.public_url_for(config.listen);
    Ok(openccm_app::pca::Pca::new(
        iam.store().clone(),
        config.key_store(Arc::new(keyring))?,
        Arc::new(SystemClock),
        openccm_app::pool::CryptoPools::for_this_machine()
            .map_err(|e| format!("cannot start crypto threads: {e}"))?,
        openccm_app::pca::PcaSettings {
            public_url,
            ..openccm_app::pca::PcaSettings::default()
        },
        iam.authorizer(),
    ))
}
