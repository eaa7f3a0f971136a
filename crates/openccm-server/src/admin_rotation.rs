//! `openccm admin rotate-master-key`: a new master key version, and every
//! stored secret re-sealed under it while servers keep running. The steps
//! and why each is safe to interrupt: `crates/openccm-app/src/rotation.rs`.

use std::time::Duration;

use openccm_app::iam::Iam;

use crate::config::Config;

/// After a pass finds nothing left, the rotation waits this long and
/// passes once more: a server that had not yet taken the new version up
/// may have sealed a secret under the old one meanwhile.
const SETTLE: Duration = Duration::from_secs(2 * crate::key_watch::EVERY.as_secs() + 1);

/// Passes after which a rotation that keeps finding secrets gives up (a
/// server sealing under an old version because its key file lacks the new
/// one, say): run it again once that is mended.
const MAX_PASSES: usize = 20;

/// Rotates (or resumes an interrupted rotation of) the master key.
pub async fn rotate(config: &Config, iam: &Iam) -> Result<(), String> {
    let store = iam.store().clone();
    let keyring = iam.keyring().clone();
    let path = &config.master_key_file;
    let e = |err: &dyn std::fmt::Display| err.to_string();
    let now = || iam.clock().now_ms();
    let version = match store.unfinished_rotation().await.map_err(|x| e(&x))? {
        Some(version) => {
            keyring.reload(path).map_err(|x| e(&x))?;
            if !keyring.versions().contains(&version) {
                // Interrupted before the key file was written.
                if keyring.current_version().checked_add(1) != Some(version) {
                    return Err(format!(
                        "an interrupted rotation to master key version {version} needs a key file that holds it ({} holds {:?}): use the key file of the host that began it",
                        path.display(),
                        keyring.versions()
                    ));
                }
                let added = keyring.add_version(path).map_err(|x| e(&x))?;
                if added != version {
                    return Err(format!(
                        "the key file gained version {added}, not {version}"
                    ));
                }
            }
            println!("resuming the interrupted rotation to master key version {version}");
            version
        }
        None => {
            let version = keyring
                .current_version()
                .checked_add(1)
                .ok_or("no master key version above the highest")?;
            // Recorded first: interrupted from here on, the next run resumes.
            store
                .begin_rotation(version, now())
                .await
                .map_err(|x| e(&x))?;
            let added = keyring.add_version(path).map_err(|x| e(&x))?;
            if added != version {
                return Err(format!(
                    "the key file gained version {added}, not {version}"
                ));
            }
            println!("master key version {version} added to {}", path.display());
            version
        }
    };
    let check = keyring
        .check_value(version)
        .ok_or("the new version is not in the keyring")?;
    // Servers take the version up once the store knows it.
    store
        .add_key_check(version, &check, now())
        .await
        .map_err(|x| e(&x))?;
    println!(
        "re-sealing every secret under version {version}; servers sharing the store take it up within {} s",
        crate::key_watch::EVERY.as_secs()
    );
    // Servers take it up within a period of their key watch (and at once
    // when they meet a secret sealed under it: `Keyring::open`); waiting
    // for that first means no server meets one it cannot open.
    tokio::time::sleep(SETTLE).await;
    let custody = config.key_store(keyring.clone())?;
    let mut totals = std::collections::BTreeMap::<&'static str, u64>::new();
    let mut settled = false;
    for _ in 0..MAX_PASSES {
        let pass = openccm_app::rotation::reseal_all(store.as_ref(), &keyring, custody.as_ref())
            .await
            .map_err(|x| e(&x))?;
        let found: u64 = pass.values().sum();
        for (name, count) in pass {
            *totals.entry(name).or_default() += count;
        }
        if found == 0 {
            if settled {
                store
                    .finish_rotation(version, now())
                    .await
                    .map_err(|x| e(&x))?;
                println!("every secret is sealed under master key version {version}:");
                for (name, count) in &totals {
                    println!("  {name:<24} {count} re-sealed");
                }
                println!(
                    "the older versions stay in {}: they open audit events, tokens and backups made \
                     before this rotation. Copy the file to every server that shares this store \
                     (they must all hold version {version}), and back it up, apart from the backups \
                     of the store.",
                    path.display()
                );
                return Ok(());
            }
            settled = true;
            tokio::time::sleep(SETTLE).await;
        } else {
            settled = false;
        }
    }
    Err(format!(
        "secrets keep being sealed under an older version after {MAX_PASSES} passes: a server \
         sharing the store lacks version {version} in its key file (its log says so). Copy the \
         key file there and run this again: it resumes"
    ))
}
