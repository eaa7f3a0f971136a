//! Master-key rotation: every stored secret re-sealed under the keyring's
//! current version, while servers keep running.
//!
//! How a rotation goes (`openccm admin rotate-master-key`,
//! `crates/openccm-server/src/admin_rotation.rs`):
//! 1. the rotation is recorded (an unfinished row in `key_rotations`), then
//!    a new version is appended to the key file and its check value
//!    recorded;
//! 2. servers notice the version in the store within seconds and reload
//!    their key file (`crates/openccm-server/src/key_watch.rs`); each says
//!    which versions it holds;
//! 3. once every running server holds the new version, the rotation is
//!    marked sealing and servers seal under it; [`reseal_all`] then passes
//!    over every place secrets are sealed in until a pass finds nothing
//!    left under an older version (which keeps opening meanwhile);
//! 4. the rotation is recorded finished.
//!
//! Each page is re-sealed in one transaction, and only where the stored
//! blob is still the one read; an interrupted rotation leaves every secret
//! sealed under one version or the other, both held, and the next run
//! resumes it (step 1 finds the unfinished row).

use std::collections::BTreeMap;

use openccm_custody::{KeyHandle, KeyStore, Keyring, SealedSecret};
use openccm_store::{AccessKeyId, SealedColumn, Store};

use crate::error::{Error, Result};

/// Secrets read and re-sealed per transaction.
const PAGE: i64 = 256;

/// What one pass found and did.
#[derive(Debug, Default)]
pub struct Pass {
    /// Secrets found under an older version, in every column.
    pub found: u64,
    /// Of those, re-sealed: the others changed meanwhile (deleted, or
    /// written again) and are looked at by the next pass.
    pub resealed: BTreeMap<&'static str, u64>,
}

/// Re-seals every secret not under `version`, which must be `keyring`'s
/// current version: one pass over every column.
///
/// # Errors
/// When `version` is not the keyring's current one, the store fails, or a
/// secret does not open (a key version the keyring lacks, or a tampered
/// blob): nothing of that page is written.
pub async fn reseal_all(
    store: &dyn Store,
    keyring: &Keyring,
    custody: &dyn KeyStore,
    version: u32,
) -> Result<Pass> {
    if keyring.current_version() != version {
        return Err(Error::Internal(format!(
            "the keyring seals under version {}, not {version}",
            keyring.current_version()
        )));
    }
    let mut pass = Pass::default();
    for column in SealedColumn::ALL {
        let mut after = String::new();
        let (mut found, mut resealed) = (0, 0);
        loop {
            let page = store
                .sealed_not_under(column, version, &after, PAGE)
                .await?;
            let Some(last) = page.last() else {
                break;
            };
            after.clone_from(&last.id);
            found += u64::try_from(page.len()).unwrap_or(u64::MAX);
            let mut changes = Vec::with_capacity(page.len());
            for row in page {
                if let Some(new) =
                    reseal(keyring, custody, column, &row.id, &row.owner, &row.sealed)?
                {
                    changes.push((row.id, row.sealed, new));
                }
            }
            resealed += store.replace_sealed(column, changes).await?;
        }
        pass.found += found;
        pass.resealed.insert(column.name(), resealed);
    }
    Ok(pass)
}

/// One secret sealed again under the current version (`None`: it already
/// is).
fn reseal(
    keyring: &Keyring,
    custody: &dyn KeyStore,
    column: SealedColumn,
    id: &str,
    owner: &str,
    sealed: &[u8],
) -> Result<Option<Vec<u8>>> {
    let failed = |e: &dyn std::fmt::Display| {
        Error::Internal(format!("cannot re-seal the {} of {id}: {e}", column.name()))
    };
    // Secrets sealed under the keyring itself, bound to their row; the
    // others are keys, which custody re-seals.
    let aad = match column {
        SealedColumn::WebhookSecret => Some(crate::notify::webhook_secret_aad(id)),
        SealedColumn::AccessKeySecret => Some(crate::iam::bootstrap::secret_key_aad(
            &AccessKeyId::parse(id).ok_or_else(|| failed(&"not an access key id"))?,
        )),
        _ => None,
    };
    match aad {
        Some(aad) => keyring
            .rekey(&aad, &SealedSecret::from_bytes(sealed.to_vec()))
            .map(|new| new.map(|s| s.as_bytes().to_vec()))
            .map_err(|e| failed(&e)),
        None => custody
            .reseal(&KeyHandle {
                owner: owner.to_owned(),
                sealed: sealed.to_vec(),
            })
            .map(|new| new.map(|h| h.sealed))
            .map_err(|e| failed(&e)),
    }
}
