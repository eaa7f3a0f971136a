//! The certificate quota, counted over slots (`0016_quota_slots.sql`).
//!
//! An issuance adds one to its certificate's slot (`counter_slot`), so
//! concurrent issuances of one account lock different rows. Each holds its
//! slot's row lock until it commits, so at any moment each slot carries at
//! most one uncommitted issuance. An issuance that reads the sum of the
//! slots after adding its own one sees every committed certificate and its
//! own, and commits if the sum leaves room for one more issuance in each of
//! the other slots. The quota then holds when it commits: of the issuances
//! that committed since its read, the one that read last left the same room
//! at its own read, and every other one was in flight at that read, at most
//! one per slot other than the two.
//!
//! Otherwise the account is within a few certificates of its quota. The
//! issuance rolls back and runs again exactly: it serialises with the other
//! exact issuances of the account (an advisory lock, taken before any slot,
//! so exact issuances never wait for each other in a cycle), locks every
//! slot (which waits for the uncommitted issuances holding them), and then
//! reads an exact sum. A fast issuance holds one slot and waits for no
//! other, and whatever holds several slots of an account takes them in slot
//! order, so no cycle runs through the slots either. Imported certificates
//! (`import_certificates`, which no quota limits) are counted holding every
//! slot, as an exact issuance.

use super::super::locks;
use super::steps::COUNTER_SLOTS;
use crate::db::{params, Tx};
use crate::ids::DomainId;
use crate::StoreResult;

/// The slots an issuance may count in: every value of `counter_slot`.
const SLOTS: i64 = COUNTER_SLOTS as i64;

/// What taking one certificate of quota found.
pub(in crate::queries) enum Taken {
    /// Taken: the transaction may commit.
    Yes,
    /// The account is at its quota: roll back.
    AtQuota,
    /// Too close to the quota to tell without the other slots: roll back
    /// and take it again with `exact`.
    Unsure,
}

/// Counts one more certificate of `domain` in `slot`, within `quota`
/// (none: unlimited). Callers take it last in their transaction: the slot
/// stays locked until the transaction ends.
pub(in crate::queries) async fn take_certificate_quota(
    tx: &mut dyn Tx,
    domain: &DomainId,
    slot: i64,
    quota: Option<i64>,
    exact: bool,
) -> StoreResult<Taken> {
    let domain = domain.as_str();
    if exact {
        hold_every_slot(tx, domain).await?;
        if let Some(quota) = quota {
            if used(tx, domain).await? >= quota {
                return Ok(Taken::AtQuota);
            }
        }
        add(tx, domain, slot, 1).await?;
        return Ok(Taken::Yes);
    }
    add(tx, domain, slot, 1).await?;
    let Some(quota) = quota else {
        return Ok(Taken::Yes);
    };
    let others_in_flight = SLOTS - 1;
    Ok(if used(tx, domain).await? + others_in_flight <= quota {
        Taken::Yes
    } else {
        Taken::Unsure
    })
}

/// Counts `n` imported certificates of `domain`, whatever its quota. Held
/// like an exact issuance (every slot until the import commits): a fast
/// issuance reading the sum meanwhile would not see them, nor leave room
/// for them.
pub(in crate::queries) async fn add_imported(
    tx: &mut dyn Tx,
    domain: &str,
    n: i64,
) -> StoreResult<()> {
    hold_every_slot(tx, domain).await?;
    add(tx, domain, 0, n).await
}

/// Locks every slot of `domain`, in slot order, after the other exact
/// writers of the account: each slot's row exists (an insert of it in
/// flight is waited for) and any issuance in flight on it has ended.
async fn hold_every_slot(tx: &mut dyn Tx, domain: &str) -> StoreResult<()> {
    tx.lock(locks::CERTIFICATE_QUOTA, domain).await?;
    for slot in 0..SLOTS {
        create_slot(tx, domain, slot).await?;
        tx.exec(
            "UPDATE quota_slots SET used = used WHERE domain_id = $1 AND slot = $2",
            &params![domain, slot],
        )
        .await?;
    }
    Ok(())
}

/// Gives back `n` certificates of `domain`'s quota, in `slot`. A
/// transaction that gives back in several slots of one account does so in
/// slot order, the order [`hold_every_slot`] takes them in.
pub(in crate::queries) async fn release_certificate_quota(
    tx: &mut dyn Tx,
    domain: &str,
    slot: i64,
    n: i64,
) -> StoreResult<()> {
    add(tx, domain, slot, -n).await
}

/// The certificates counted against account `$1`'s quota, as `used`.
pub(in crate::queries) const USED: &str =
    "SELECT CAST(COALESCE(SUM(used), 0) AS BIGINT) AS used FROM quota_slots WHERE domain_id = $1";

async fn used(tx: &mut dyn Tx, domain: &str) -> StoreResult<i64> {
    let rows = tx.query(USED, &params![domain]).await?;
    rows.first().map_or(Ok(0), |row| row.int("used"))
}

/// Adds `n` to `slot` of `domain`. The row is created only when the update
/// finds none: an `INSERT ... ON CONFLICT` on every call would wait for the
/// row's current holder even when it changes nothing.
async fn add(tx: &mut dyn Tx, domain: &str, slot: i64, n: i64) -> StoreResult<()> {
    let update = "UPDATE quota_slots SET used = used + $3 WHERE domain_id = $1 AND slot = $2";
    if tx.exec(update, &params![domain, slot, n]).await? == 0 {
        create_slot(tx, domain, slot).await?;
        tx.exec(update, &params![domain, slot, n]).await?;
    }
    Ok(())
}

async fn create_slot(tx: &mut dyn Tx, domain: &str, slot: i64) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO quota_slots (domain_id, slot, used) VALUES ($1, $2, 0) \
         ON CONFLICT (domain_id, slot) DO NOTHING",
        &params![domain, slot],
    )
    .await?;
    Ok(())
}
