//! Master-key rotation: every stored secret re-sealed under the keyring's
//! current version, while servers keep running.
//!
//! How a rotation goes (`openccm admin rotate-master-key`,
//! `crates/openccm-server/src/admin_rotation.rs`):
//! 1. a new version is appended to the key file and recorded (its check
//!    value, and an unfinished row in `key_rotations`);
//! 2. servers notice the version in the store within seconds, reload their
//!    key file and seal with it from then on (`key_watch.rs` beside
//!    `serve.rs`); the old version keeps opening what it sealed;
//! 3. [`reseal_all`] passes over every place secrets are sealed in until a
//!    pass finds nothing left under an older version (a server that had not
//!    reloaded yet may have sealed one meanwhile);
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

/// Re-seals every secret not under `keyring`'s current version: one pass
/// over every column. Returns how many were re-sealed, per column.
///
/// # Errors
/// When the store fails, or a secret does not open (a key version the
/// keyring lacks, or a tampered blob): nothing of that page is written.
pub async fn reseal_all(
    store: &dyn Store,
    keyring: &Keyring,
    custody: &dyn KeyStore,
) -> Result<BTreeMap<&'static str, u64>> {
    let version = keyring.current_version();
    let mut counts = BTreeMap::new();
    for column in SealedColumn::ALL {
        let mut after = String::new();
        let mut resealed = 0;
        loop {
            let page = store
                .sealed_not_under(column, version, &after, PAGE)
                .await?;
            let Some(last) = page.last() else {
                break;
            };
            after.clone_from(&last.id);
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
        counts.insert(column.name(), resealed);
    }
    Ok(counts)
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
    match column {
        SealedColumn::AccessKeySecret => {
            let access_key =
                AccessKeyId::parse(id).ok_or_else(|| failed(&"not an access key id"))?;
            keyring
                .rekey(
                    &crate::iam::bootstrap::secret_key_aad(&access_key),
                    &SealedSecret::from_bytes(sealed.to_vec()),
                )
                .map(|new| new.map(|s| s.as_bytes().to_vec()))
                .map_err(|e| failed(&e))
        }
        _ => custody
            .reseal(&KeyHandle {
                owner: owner.to_owned(),
                sealed: sealed.to_vec(),
            })
            .map(|new| new.map(|h| h.sealed))
            .map_err(|e| failed(&e)),
    }
}
