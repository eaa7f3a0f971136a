//! Takes up master key versions added while the server runs (a rotation by
//! `openccm admin rotate-master-key`, here or on another server sharing the
//! database): when the store knows a version the keyring does not hold,
//! the key file is read again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openccm_custody::Keyring;
use openccm_store::Store;

/// How often the store's key versions are compared with the keyring's. A
/// rotation waits for servers to pick its version up: `admin_rotation.rs`
/// allows for two periods.
pub const EVERY: Duration = Duration::from_secs(2);

/// Runs forever.
pub async fn run(store: Arc<dyn Store>, keyring: Arc<Keyring>, path: PathBuf) {
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Versions the key file lacked, warned about once each.
    let mut lacking: Vec<u32> = Vec::new();
    loop {
        every.tick().await;
        let known = match store.key_checks().await {
            Ok(known) => known,
            Err(err) => {
                tracing::debug!(error = %err, "cannot read the master key versions");
                continue;
            }
        };
        let held = keyring.versions();
        let missing: Vec<u32> = known
            .iter()
            .map(|(version, _)| *version)
            .filter(|version| !held.contains(version))
            .collect();
        if missing.is_empty() {
            continue;
        }
        // The file's new versions must be the store's: a key file that
        // another rotation wrote (not shared with the one that rotated this
        // database) would seal with a key no other server holds.
        let differs = match Keyring::load(&path) {
            Ok(file) => known.iter().any(|(version, check)| {
                file.check_value(*version)
                    .is_some_and(|ours| ours.as_slice() != check.as_slice())
            }),
            Err(err) => {
                tracing::error!(error = %err, "cannot read the master key file again");
                continue;
            }
        };
        if differs {
            tracing::error!(path = %path.display(), "the master key file holds a version that differs from the database's: not taken up");
            continue;
        }
        match keyring.reload(&path) {
            Ok(added) if !added.is_empty() => {
                tracing::info!(versions = ?added, current = keyring.current_version(), "master key versions taken up from the key file");
            }
            Ok(_) => {}
            Err(err) => {
                tracing::error!(error = %err, "cannot read the master key file again");
            }
        }
        let held = keyring.versions();
        for version in missing {
            if !held.contains(&version) && !lacking.contains(&version) {
                lacking.push(version);
                tracing::error!(version, path = %path.display(), "the database knows a master key version this server's key file lacks: copy the key file from the server that rotated it");
            }
        }
    }
}
