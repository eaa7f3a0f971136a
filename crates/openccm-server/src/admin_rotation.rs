//! `openccm admin rotate-master-key`: a new master key version, and every
//! stored secret re-sealed under it while servers keep running. The steps
//! and why each is safe to interrupt: `crates/openccm-app/src/rotation.rs`.

use std::time::Duration;

use openccm_app::iam::Iam;
use openccm_custody::KeyringError;

use crate::config::Config;

/// After a pass finds nothing left, the rotation waits this long and
/// passes once more: a write sealed under the old version just before its
/// server took the new one up may commit after the pass read its table.
const SETTLE: Duration = Duration::from_secs(2 * crate::key_watch::EVERY.as_secs() + 1);

/// Passes after which a rotation that keeps finding secrets gives up.
const MAX_PASSES: usize = 20;

fn text(err: &dyn std::fmt::Display) -> String {
    err.to_string()
}

/// `--prepare`: adds the next version to the key file only, for the
/// operator to copy to every server before the rotation itself.
pub async fn prepare(config: &Config, iam: &Iam) -> Result<(), String> {
    let store = iam.store();
    if let Some(version) = store.unfinished_rotation().await.map_err(|e| text(&e))? {
        return Err(format!(
            "a rotation to master key version {version} is under way: run rotate-master-key to finish it first"
        ));
    }
    let keyring = iam.keyring();
    let sealing = keyring.current_version();
    let version = next_version(keyring.highest_version())?;
    keyring
        .add_version(&config.master_key_file, version)
        .map_err(|e| text(&e))?;
    // Nothing this command still seals (its audit event) uses it.
    keyring.seal_up_to(sealing);
    println!(
        "master key version {version} added to {}; nothing is sealed under it yet.\n\
         Copy the file to every server that shares this store, then run \
         `openccm admin rotate-master-key` (without --prepare).",
        config.master_key_file.display()
    );
    Ok(())
}

fn next_version(current: u32) -> Result<u32, String> {
    current
        .checked_add(1)
        .ok_or_else(|| "no master key version above the highest".to_owned())
}

/// Which version this run rotates to: an unfinished rotation's (resumed),
/// a version prepared in the key file, or a new one (added to the file).
async fn choose_version(config: &Config, iam: &Iam) -> Result<u32, String> {
    let store = iam.store();
    let keyring = iam.keyring();
    let path = &config.master_key_file;
    if let Some(version) = store.unfinished_rotation().await.map_err(|e| text(&e))? {
        keyring.reload(path).map_err(|e| text(&e))?;
        if !keyring.versions().contains(&version) {
            // Interrupted after it was recorded, before the key file was
            // written: write it now (under the file's lock; if another run
            // wrote it meanwhile, reading it again finds it).
            match keyring.add_version(path, version) {
                Ok(()) | Err(KeyringError::VersionTaken { .. }) => {}
                Err(err) => return Err(text(&err)),
            }
            // add_version read the file again under its lock, either way.
            if !keyring.versions().contains(&version) {
                return Err(format!(
                    "an interrupted rotation to master key version {version} needs a key file that holds it ({} holds {:?}): use the key file of the host that began it",
                    path.display(),
                    keyring.versions()
                ));
            }
        }
        if keyring.highest_version() != version {
            return Err(format!(
                "the key file holds versions above {version}, which an interrupted rotation re-seals under: use the key file of the host that began it"
            ));
        }
        println!("resuming the interrupted rotation to master key version {version}");
        return Ok(version);
    }
    let rotated = store.rotations().await.map_err(|e| text(&e))?;
    let current = keyring.highest_version();
    let prepared = current > 1 && rotated.iter().all(|v| *v < current);
    let version = if prepared {
        current
    } else {
        next_version(current)?
    };
    // Recorded before the key file is written: interrupted from here on,
    // the next run resumes this version.
    if !store
        .begin_rotation(version, iam.clock().now_ms())
        .await
        .map_err(|e| text(&e))?
    {
        return Err(format!(
            "a rotation to master key version {version} was begun by another run meanwhile"
        ));
    }
    if prepared {
        println!(
            "rotating to master key version {version}, prepared in {}",
            path.display()
        );
    } else {
        keyring.add_version(path, version).map_err(|e| text(&e))?;
        println!("master key version {version} added to {}", path.display());
    }
    Ok(version)
}

/// Waits, `wait` at most, until every server that checked in lately holds
/// `version`.
async fn wait_for_servers(iam: &Iam, version: u32, wait: Duration) -> Result<(), String> {
    let store = iam.store();
    let deadline = tokio::time::Instant::now() + wait;
    let mut said = false;
    loop {
        let since = iam.clock().now_ms()
            - i64::try_from(crate::key_watch::SEEN_WITHIN.as_millis()).unwrap_or(i64::MAX);
        let lacking: Vec<String> = store
            .servers_seen_since(since)
            .await
            .map_err(|e| text(&e))?
            .into_iter()
            .filter(|(_, _, versions)| !versions.contains(&version))
            .map(|(_, host, _)| host)
            .collect();
        if lacking.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "these servers do not hold master key version {version}: {}. Copy the key file \
                 to them (their log names the version they lack), then run this command again: \
                 it resumes. Nothing was re-sealed.",
                lacking.join(", ")
            ));
        }
        if !said {
            println!(
                "waiting for every running server to take version {version} up: {}",
                lacking.join(", ")
            );
            said = true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Rotates (or resumes an interrupted rotation of) the master key.
pub async fn rotate(config: &Config, iam: &Iam, wait: Duration) -> Result<(), String> {
    let store = iam.store().clone();
    let keyring = iam.keyring().clone();
    let path = &config.master_key_file;
    let version = choose_version(config, iam).await?;
    let check = keyring
        .check_value(version)
        .ok_or("the new version is not in the keyring")?;
    // Known from here on (servers take it up to open with), sealed under
    // only once every server holds it (below).
    store
        .add_key_check(version, &check, iam.clock().now_ms())
        .await
        .map_err(|e| text(&e))?;
    // The store's check value must be this key's: another run's key of the
    // same version would make these seals unopenable by every server.
    let stored = store.key_checks().await.map_err(|e| text(&e))?;
    if !stored
        .iter()
        .any(|(v, c)| *v == version && c.as_slice() == check.as_slice())
    {
        return Err(format!(
            "the store records another key as version {version}: another rotation's key file is not this one ({})",
            path.display()
        ));
    }
    println!(
        "servers sharing the store take version {version} up within {} s; none seals under it until all hold it",
        crate::key_watch::EVERY.as_secs()
    );
    wait_for_servers(iam, version, wait).await?;
    store
        .rotation_sealing(version, iam.clock().now_ms())
        .await
        .map_err(|e| text(&e))?;
    keyring.seal_up_to(version);
    // Servers seal under it within a period of their key watch; what they
    // seal under the old one meanwhile the passes below find.
    tokio::time::sleep(crate::key_watch::EVERY + Duration::from_secs(1)).await;
    println!("re-sealing every secret under version {version}");
    let custody = config.key_store(keyring.clone())?;
    let mut totals = std::collections::BTreeMap::<&'static str, u64>::new();
    let mut settled = false;
    for _ in 0..MAX_PASSES {
        let pass =
            openccm_app::rotation::reseal_all(store.as_ref(), &keyring, custody.as_ref(), version)
                .await
                .map_err(|e| text(&e))?;
        for (name, count) in &pass.resealed {
            *totals.entry(name).or_default() += count;
        }
        if pass.found > 0 {
            settled = false;
            continue;
        }
        if settled {
            store
                .finish_rotation(version, iam.clock().now_ms())
                .await
                .map_err(|e| text(&e))?;
            println!("every secret is sealed under master key version {version}:");
            for (name, count) in &totals {
                println!("  {name:<24} {count} re-sealed");
            }
            println!(
                "the older versions stay in {}: they open audit events, tokens and backups made \
                 before this rotation. Every server that shares this store holds version \
                 {version}; back the key file up, apart from the backups of the store.",
                path.display()
            );
            return Ok(());
        }
        settled = true;
        tokio::time::sleep(SETTLE).await;
    }
    Err(format!(
        "secrets keep being sealed under an older version after {MAX_PASSES} passes: a server \
         sharing the store may lack version {version} in its key file (its log says so). Copy \
         the key file there and run this again: it resumes"
    ))
}
