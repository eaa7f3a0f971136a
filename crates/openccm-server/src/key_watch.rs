//! Takes up master key versions added while the server runs (a rotation by
//! `openccm admin rotate-master-key`, here or on another server sharing the
//! database): when the store knows a version the keyring does not hold,
//! the key file is read again. Each period the server also tells the store
//! which versions it holds (`server_keys`): a rotation re-seals nothing
//! until every running server holds the new version.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openccm_custody::Keyring;
use openccm_store::Store;

/// How often the store's key versions are compared with the keyring's. A
/// rotation waits for servers to pick its version up: `admin_rotation.rs`
/// allows for two periods.
pub const EVERY: Duration = Duration::from_secs(2);

/// A server that has not checked in for this long is taken for stopped.
pub const SEEN_WITHIN: Duration = Duration::from_secs(15);

/// Check-ins older than this are removed (servers long gone).
const FORGET_AFTER_MS: i64 = 86_400_000;

/// This server in `server_keys`: the host's name and the process id, for
/// the operator a rotation names when it waits for a server.
fn this_server() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    format!("{host} (pid {})", std::process::id())
}

/// Runs forever.
pub async fn run(
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    path: PathBuf,
    clock: Arc<dyn openccm_app::Clock>,
) {
    let server_id = uuid::Uuid::new_v4().to_string();
    let host = this_server();
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Versions the key file lacked, warned about once each.
    let mut lacking: Vec<u32> = Vec::new();
    loop {
        every.tick().await;
        let held = take_up_new_versions(store.as_ref(), &keyring, &path, &mut lacking).await;
        let now = clock.now_ms();
        if let Err(err) = store
            .record_server_keys(&server_id, &host, &held, now, now - FORGET_AFTER_MS)
            .await
        {
            tracing::warn!(error = %err, "cannot record the master key versions held");
        }
    }
}

/// Reads the key file again when the store knows a version the keyring
/// lacks, and takes the new versions up if their check values are the
/// store's; seals under the newest version the store lets servers seal
/// under. Returns the versions held whose keys are the store's (what this
/// server reports: a version of the same number but another key, from a
/// key file no other server shares, is not one the store's secrets open).
async fn take_up_new_versions(
    store: &dyn Store,
    keyring: &Keyring,
    path: &std::path::Path,
    lacking: &mut Vec<u32>,
) -> Vec<u32> {
    let known = match store.key_checks().await {
        Ok(known) => known,
        Err(err) => {
            tracing::debug!(error = %err, "cannot read the master key versions");
            return Vec::new();
        }
    };
    let held = keyring.versions();
    let missing: Vec<u32> = known
        .iter()
        .map(|(version, _)| *version)
        .filter(|version| !held.contains(version))
        .collect();
    if !missing.is_empty() {
        take_up(keyring, path, &known);
        let held = keyring.versions();
        for version in missing {
            if !held.contains(&version) && !lacking.contains(&version) {
                lacking.push(version);
                tracing::error!(version, path = %path.display(), "the database knows a master key version this server's key file lacks: copy the key file from the server that rotated it");
            }
        }
    }
    let matching: Vec<u32> = keyring
        .versions()
        .into_iter()
        .filter(|version| {
            known.iter().any(|(v, check)| {
                v == version
                    && keyring
                        .check_value(*version)
                        .is_some_and(|ours| ours.as_slice() == check.as_slice())
            })
        })
        .collect();
    match store.sealable_version().await {
        Ok(Some(sealable)) => {
            // Never a version whose key here is not the store's.
            let cap = matching.iter().copied().filter(|v| *v <= sealable).max();
            if let Some(cap) = cap.filter(|cap| *cap != keyring.current_version()) {
                keyring.seal_up_to(cap);
                tracing::info!(version = cap, "sealing under master key version");
            }
        }
        Ok(None) => {}
        Err(err) => tracing::debug!(error = %err, "cannot read the sealing key version"),
    }
    matching
}

/// Reads the key file again if its versions that the store knows are the
/// store's keys.
fn take_up(keyring: &Keyring, path: &std::path::Path, known: &[(u32, Vec<u8>)]) {
    // The file's new versions must be the store's: a key file that
    // another rotation wrote (not shared with the one that rotated this
    // database) would hold a key no other server holds.
    let file = match Keyring::load(path) {
        Ok(file) => file,
        Err(err) => {
            tracing::error!(error = %err, "cannot read the master key file again");
            return;
        }
    };
    let differs = known.iter().any(|(version, check)| {
        file.check_value(*version)
            .is_some_and(|ours| ours.as_slice() != check.as_slice())
    });
    if differs {
        tracing::error!(path = %path.display(), "the master key file holds a version the database knows as another key: not taken up");
        return;
    }
    match keyring.reload(path) {
        Ok(added) if !added.is_empty() => {
            tracing::info!(versions = ?added, "master key versions taken up from the key file");
        }
        Ok(_) => {}
        Err(err) => tracing::error!(error = %err, "cannot read the master key file again"),
    }
}
