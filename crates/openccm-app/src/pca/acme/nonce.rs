//! Where spent ACME nonces are remembered.
//!
//! A nonce is sealed under the keyring (`server.rs`): any server with the
//! key file can tell it is ours and how old it is. What must be shared is
//! which nonces were spent. Servers sharing PostgreSQL record them in the
//! store (`acme_nonces`), so that a nonce spent on one is refused on every
//! other. The embedded store has one server: it keeps them in memory, and
//! its nonces carry the id of this run, so that a restart (which forgets
//! them) refuses every nonce of the run before instead of accepting it
//! again. That saves a store write per ACME request.
//!
//! In memory, spent nonces are kept in one set per minute of issue: a
//! minute's set is dropped whole once every nonce in it has expired (with
//! a margin for a clock that steps back), so forgetting costs nothing per
//! request, and the sets are bounded.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use super::server::NONCE_LIFETIME_MS;

/// The span of issue times one set holds, ms.
const BUCKET_MS: i64 = 60_000;
/// How long past its expiry a spent nonce is still remembered, ms: a clock
/// stepped back by less than this cannot make it fresh again.
const MARGIN_MS: i64 = 10 * 60_000;
/// The most spent nonces remembered; past it, nonces are refused (clients
/// retry with a fresh one) rather than memory grown.
const MAX_REMEMBERED: usize = 4 << 20;

/// The spent-nonce record of this server.
#[derive(Debug)]
pub(super) enum NonceLedger {
    /// In the store, for every server sharing it.
    Store,
    /// In memory, for this run only.
    Local {
        /// This run's id, in every nonce it hands out.
        run: [u8; 8],
        /// Spent nonces (their time and random part) by minute of issue.
        spent: Mutex<Spent>,
    },
}

/// Spent nonces by minute of issue, and how many in all.
#[derive(Debug, Default)]
pub(super) struct Spent {
    buckets: HashMap<i64, HashSet<u128>>,
    total: usize,
}

impl NonceLedger {
    /// The ledger for a store shared by several servers, or not.
    pub(super) fn new(shared_store: bool) -> Self {
        if shared_store {
            Self::Store
        } else {
            Self::Local {
                run: crate::common::random_bytes(),
                spent: Mutex::new(Spent::default()),
            }
        }
    }

    /// The run id nonces carry (zeros when the store keeps the record).
    pub(super) fn run(&self) -> [u8; 8] {
        match self {
            Self::Store => [0; 8],
            Self::Local { run, .. } => *run,
        }
    }

    /// Records a nonce of this run (`issued_at`, its random part) as spent;
    /// false if it was already, is of another run, or too many are
    /// remembered. Only for [`Self::Local`]; the caller checked its age.
    pub(super) fn spend_locally(
        &self,
        run_of_nonce: [u8; 8],
        issued_at: i64,
        random: u64,
        now: i64,
    ) -> bool {
        let Self::Local { run, spent } = self else {
            return false;
        };
        if run_of_nonce != *run {
            return false;
        }
        // Nothing under the lock panics; a poisoned lock still holds a
        // consistent record.
        let mut spent = spent.lock().unwrap_or_else(PoisonError::into_inner);
        let Spent { buckets, total } = &mut *spent;
        // The sets whose every nonce expired (a margin ago) go whole.
        let before = buckets.len();
        if before > 0 {
            let oldest_kept = (now - NONCE_LIFETIME_MS - MARGIN_MS).div_euclid(BUCKET_MS);
            buckets.retain(|bucket, set| {
                let keep = *bucket >= oldest_kept;
                if !keep {
                    *total -= set.len();
                }
                keep
            });
        }
        if *total >= MAX_REMEMBERED {
            return false;
        }
        #[allow(clippy::cast_sign_loss)]
        let key = (u128::from(issued_at as u64) << 64) | u128::from(random);
        let fresh = buckets
            .entry(issued_at.div_euclid(BUCKET_MS))
            .or_default()
            .insert(key);
        if fresh {
            *total += 1;
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_ledger_takes_each_nonce_of_its_run_once() {
        let ledger = NonceLedger::new(false);
        let run = ledger.run();
        assert!(ledger.spend_locally(run, 1_000, 7, 1_500));
        assert!(!ledger.spend_locally(run, 1_000, 7, 1_500), "replayed");
        assert!(ledger.spend_locally(run, 1_000, 8, 1_500));
        // Another run's nonce (before a restart): refused.
        let mut other = run;
        other[0] ^= 1;
        assert!(!ledger.spend_locally(other, 1_000, 9, 1_500));
        // The store ledger records nothing here.
        assert!(!NonceLedger::new(true).spend_locally([0; 8], 1_000, 7, 1_500));
    }

    #[test]
    fn whole_minutes_are_forgotten_only_well_after_they_expired() {
        let ledger = NonceLedger::new(false);
        let run = ledger.run();
        let t0 = 10 * BUCKET_MS;
        assert!(ledger.spend_locally(run, t0, 1, t0));
        // Expired, but within the margin: still remembered.
        let later = t0 + NONCE_LIFETIME_MS + MARGIN_MS / 2;
        assert!(!ledger.spend_locally(run, t0, 1, later));
        // Past the margin its minute is dropped (a clock that stepped back
        // that far would be the only way to present it again).
        let much_later = t0 + NONCE_LIFETIME_MS + MARGIN_MS + 2 * BUCKET_MS;
        assert!(ledger.spend_locally(run, much_later, 2, much_later));
        let NonceLedger::Local { spent, .. } = &ledger else {
            unreachable!()
        };
        let spent = spent.lock().unwrap();
        assert_eq!(spent.total, 1);
        assert_eq!(spent.buckets.len(), 1);
    }
}
