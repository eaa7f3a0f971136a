//! `openccm admin backup` and `openccm admin restore`: the SQLite store
//! copied online into one file and back (`openccm_store::backup`), with the
//! master key it needs checked, never copied.

use std::path::Path;

use openccm_app::iam::Iam;
use openccm_custody::Keyring;
use openccm_store::backup::BackupFacts;

use crate::config::Config;

/// The SQLite file of `config`'s store, or why there is none to copy.
fn sqlite_file(config: &Config) -> Result<std::path::PathBuf, String> {
    if !config.database_url.is_sqlite() {
        return Err(
            "the store is PostgreSQL: back it up with pg_dump and restore it with pg_restore \
             (docs/operations.md, \"Backup and restore\")"
                .to_owned(),
        );
    }
    openccm_store::sqlite::file_of(config.database_url.expose())
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "an in-memory store has nothing to back up or restore into".to_owned())
}

/// Short form of a key check value, for people to compare.
fn fingerprint(check: &[u8]) -> String {
    hex::encode(check.get(..8).unwrap_or(check))
}

/// Which of the backup's key versions `keyring` does not hold, or holds a
/// different key for.
fn keys_missing(facts: &BackupFacts, keyring: &Keyring) -> Vec<String> {
    facts
        .key_checks
        .iter()
        .filter(|(version, check)| {
            keyring
                .check_value(*version)
                .is_none_or(|ours| ours.as_slice() != check.as_slice())
        })
        .map(|(version, check)| format!("version {version} (check {})", fingerprint(check)))
        .collect()
}

fn describe(facts: &BackupFacts) -> String {
    format!(
        "schema version {}; {} CAs, {} certificates, {} SSL certificates",
        facts.schema_version, facts.cas, facts.certificates, facts.ssl_certificates
    )
}

/// `openccm admin backup --to FILE`: the store (already opened by `iam`,
/// which checked the master key against it) copied online into `to`.
pub async fn backup(config: &Config, iam: &Iam, to: &Path) -> Result<(), String> {
    let db = sqlite_file(config)?;
    let target = to.to_path_buf();
    let facts = tokio::task::spawn_blocking(move || openccm_store::backup::backup(&db, &target))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let missing = keys_missing(&facts, iam.keyring());
    if !missing.is_empty() {
        // The key was rotated between the check at open and the copy.
        return Err(format!(
            "backup written to {}, but the master key file {} does not open it: it lacks {}",
            to.display(),
            config.master_key_file.display(),
            missing.join(", ")
        ));
    }
    let versions: Vec<String> = facts
        .key_checks
        .iter()
        .map(|(version, check)| format!("version {version} (check {})", fingerprint(check)))
        .collect();
    println!("backup written to {}", to.display());
    println!("  {}", describe(&facts));
    println!(
        "  sealed under master key {}, which {} holds",
        versions.join(", "),
        config.master_key_file.display()
    );
    println!(
        "  keep the master key apart from the backup: the backup is useless without it, \
         and the two together open every secret"
    );
    Ok(())
}

/// `openccm admin restore --from FILE`: the backup becomes the store of
/// `config`, which must not exist.
pub async fn restore(config: &Config, from: &Path) -> Result<(), String> {
    let db = sqlite_file(config)?;
    let source = from.to_path_buf();
    let facts = tokio::task::spawn_blocking(move || openccm_store::backup::inspect(&source))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    // A key file at hand must be the backup's: a wrong one would have the
    // restored server refuse to start.
    let key_present = config.master_key_file.exists();
    if key_present {
        let (keyring, _) =
            Keyring::load_or_create(&config.master_key_file).map_err(|e| e.to_string())?;
        let missing = keys_missing(&facts, &keyring);
        if !missing.is_empty() {
            return Err(format!(
                "the master key file {} does not open this backup: it lacks {}; nothing was restored",
                config.master_key_file.display(),
                missing.join(", ")
            ));
        }
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let source = from.to_path_buf();
    let target = db.clone();
    tokio::task::spawn_blocking(move || openccm_store::backup::restore(&source, &target))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    println!("restored {} into {}", from.display(), db.display());
    println!("  {}", describe(&facts));
    if !key_present {
        let versions: Vec<String> = facts
            .key_checks
            .iter()
            .map(|(version, check)| format!("version {version} (check {})", fingerprint(check)))
            .collect();
        println!(
            "  no master key at {}: put the key file holding {} there before starting the server",
            config.master_key_file.display(),
            versions.join(", ")
        );
    }
    Ok(())
}

/// Creates `dir` (mode 0700) and its parents if missing.
fn create_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
}
