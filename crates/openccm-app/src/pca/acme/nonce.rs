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

use std::collections::HashMap;
use std::sync::Mutex;

/// How many spent nonces are kept in memory before a sweep of the expired
/// ones is forced, whatever the time.
const SWEEP_AT: usize = 1 << 20;
/// How often the expired ones are swept otherwise, ms.
const SWEEP_EVERY_MS: i64 = 60_000;

/// The spent-nonce record of this server.
#[derive(Debug)]
pub(super) enum NonceLedger {
    /// In the store, for every server sharing it.
    Store,
    /// In memory, for this run only.
    Local {
        /// This run's id, in every nonce it hands out.
        run: [u8; 8],
        /// Spent nonces (their time and random part) and their expiry, and
        /// when they were last swept.
        spent: Mutex<(HashMap<u128, i64>, i64)>,
    },
}

impl NonceLedger {
    /// The ledger for a store shared by several servers, or not.
    pub(super) fn new(shared_store: bool) -> Self {
        if shared_store {
            Self::Store
        } else {
            Self::Local {
                run: crate::common::random_bytes(),
                spent: Mutex::new((HashMap::new(), 0)),
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

    /// Records a nonce of this run (`issued_at`, its random part) as spent
    /// until `expires_at`; false if it was already, or is of another run.
    /// Only for [`Self::Local`].
    pub(super) fn spend_locally(
        &self,
        run_of_nonce: [u8; 8],
        issued_at: i64,
        random: u64,
        expires_at: i64,
        now: i64,
    ) -> bool {
        let Self::Local { run, spent } = self else {
            return false;
        };
        if run_of_nonce != *run {
            return false;
        }
        let Ok(mut guard) = spent.lock() else {
            return false;
        };
        let (map, last_sweep) = &mut *guard;
        if map.len() >= SWEEP_AT || now - *last_sweep >= SWEEP_EVERY_MS {
            map.retain(|_, expiry| *expiry >= now);
            *last_sweep = now;
        }
        #[allow(clippy::cast_sign_loss)]
        let key = (u128::from(issued_at as u64) << 64) | u128::from(random);
        map.insert(key, expires_at).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_ledger_takes_each_nonce_of_its_run_once() {
        let ledger = NonceLedger::new(false);
        let run = ledger.run();
        assert!(ledger.spend_locally(run, 1_000, 7, 2_000, 1_500));
        assert!(
            !ledger.spend_locally(run, 1_000, 7, 2_000, 1_500),
            "replayed"
        );
        assert!(ledger.spend_locally(run, 1_000, 8, 2_000, 1_500));
        // Another run's nonce (before a restart): refused.
        let mut other = run;
        other[0] ^= 1;
        assert!(!ledger.spend_locally(other, 1_000, 9, 2_000, 1_500));
        // The store ledger records nothing here.
        assert!(!NonceLedger::new(true).spend_locally([0; 8], 1_000, 7, 2_000, 1_500));
    }
}
